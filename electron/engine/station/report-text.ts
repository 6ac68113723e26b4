/**
 * The batch report's text: one row per card, as CSV (for a spreadsheet on the table) or JSON.
 * Pure and free of Node, so the CLI and the app's Station view write the same file.
 */
import type { StationRow } from '../api';

export const CSV_COLUMNS = [
  'time',
  'device',
  'reader_vendor',
  'reader_model',
  'reader_serial',
  'reader_path',
  'size_bytes',
  'image_sha256',
  'bytes_written',
  'result',
  'error',
] as const;

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(rows: readonly StationRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    const fields = [r.time, r.device, r.reader.vendor, r.reader.model, r.reader.serial, r.reader.path, r.sizeBytes, r.imageSha256, r.bytesWritten, r.result, r.error];
    lines.push(fields.map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function toJson(rows: readonly StationRow[]): string {
  return `${JSON.stringify({ cards: rows }, null, 2)}\n`;
}
