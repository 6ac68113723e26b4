/**
 * Pure helpers both sides need — the engine and CLI under Node, the renderer in the page: the
 * error causes, URL and path checks, sizes for people. This module imports nothing (lint), so
 * the renderer bundles it without the engine.
 */

export const ERROR_CAUSES = [
  'bad-input',
  'unknown-board',
  'overlap',
  'too-small',
  'permission',
  'busy',
  'device-gone',
  'unsafe-target',
  'io',
  'source-corrupt',
  'checksum-mismatch',
  'network',
  'no-space',
  'missing-tool',
  'cancelled',
  'not-implemented',
  'internal',
] as const;

export function isErrorCause(value: unknown): value is (typeof ERROR_CAUSES)[number] {
  return typeof value === 'string' && (ERROR_CAUSES as readonly string[]).includes(value);
}

/** Whether `text` is an http(s) URL: the one test of it for the contract, the engine and the app. */
export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** An absolute path on POSIX (`/…`) or Windows (`C:\…`, `\\server\…`); checked without Node's path module. */
export const isAbsolutePath = (path: string): boolean => /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(path);

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

/** Decimal units, as printed on cards ("32 GB"), with one decimal below 10. */
export function formatBytes(bytes: number | null, locale: string): string {
  if (bytes === null || !Number.isFinite(bytes)) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < DECIMAL.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toLocaleString(locale, { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${DECIMAL[unit]}`;
}

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** Binary units, as partition tools and boot-ROM documents use them ("16 MiB", "1.5 KiB"). */
export function formatBinary(bytes: number, locale: string): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BINARY.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || Number.isInteger(value) || value >= 100 ? 0 : 1;
  return `${value.toLocaleString(locale, { maximumFractionDigits: digits })} ${BINARY[unit]}`;
}
