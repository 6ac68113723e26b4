/** Numbers a person reads: sizes in the units card packages use, speeds, time left, offsets. */

import { formatBytes } from '../../../electron/engine/shared/pure';

export { formatBinary, formatBytes } from '../../../electron/engine/shared/pure';

export function formatSpeed(bytesPerSecond: number, locale: string): string {
  return `${formatBytes(bytesPerSecond, locale)}/s`;
}

/** "1:05" or "1:02:03"; null (unknown) becomes an em dash. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/** A byte offset as boot-ROM documentation writes it: KiB when aligned, else bytes, plus hex. */
export function formatOffset(offset: number): string {
  const hex = `0x${offset.toString(16)}`;
  if (offset === 0) return '0';
  if (offset % 1024 === 0) return `${offset / 1024} KiB (${hex})`;
  return `${offset} B (${hex})`;
}

export function formatPercent(fraction: number, locale: string): string {
  return fraction.toLocaleString(locale, { style: 'percent', maximumFractionDigits: 0 });
}

/** A catalog's release date (YYYY-MM-DD) in the UI language; anything else is shown as given. */
export function formatDate(isoDate: string, locale: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (!match) return isoDate;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.toLocaleDateString(locale, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });
}

export const hex = (offset: number): string => `0x${offset.toString(16)}`;
