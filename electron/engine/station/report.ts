/**
 * The batch report: one row per card, as CSV (for a spreadsheet on the table) or JSON. Pure.
 */
import type { StationRow } from '../api';
import { CardsmithError } from '../errors';

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

/** The report's format, from its file name: FILE.csv or FILE.json. */
export function reportFormat(path: string): 'csv' | 'json' {
  const match = /\.(csv|json)$/i.exec(path);
  if (!match) throw new CardsmithError('bad-input', `--report ${path}: the file name must end in .csv or .json`, { path });
  return (match[1] as string).toLowerCase() as 'csv' | 'json';
}

export function renderReport(path: string, rows: readonly StationRow[]): string {
  return reportFormat(path) === 'csv' ? toCsv(rows) : toJson(rows);
}
