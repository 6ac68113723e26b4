/**
 * The batch report: one row per card, as CSV (for a spreadsheet on the table) or JSON. Pure.
 */
import type { StationRow } from '../api';
import { CardsmithError } from '../errors';
import { toCsv, toJson } from './report-text';

export { CSV_COLUMNS, toCsv, toJson } from './report-text';

/** The report's format, from its file name: FILE.csv or FILE.json. */
export function reportFormat(path: string): 'csv' | 'json' {
  const match = /\.(csv|json)$/i.exec(path);
  if (!match) throw CardsmithError.keyed('bad-input', 'station.reportName', { path }, { path });
  return (match[1] as string).toLowerCase() as 'csv' | 'json';
}

export function renderReport(path: string, rows: readonly StationRow[]): string {
  return reportFormat(path) === 'csv' ? toCsv(rows) : toJson(rows);
}
