/**
 * Which drives the station takes. Pure: the scanner's drive list in, decisions out.
 * A card is known by the device it appears as while it has media; a reader that loses its card
 * (device gone, or size 0/unknown as an empty USB reader reports) frees the device, so the next
 * card in the same reader counts as new. Everything with media when the station started is in
 * the first `occupied` set and so is never an arrival.
 */
import type { Drive } from '../drives/model';
import { CardsmithError } from '../errors';

export interface StationFilter {
  readonly minBytes?: number;
  readonly maxBytes?: number;
  /** Only cards whose reader path (sysfs port, or a loop device's backing file) starts with this. */
  readonly readerPath?: string;
}

export function hasMedia(drive: Drive): boolean {
  return drive.sizeBytes !== null && drive.sizeBytes > 0;
}

/** The devices that now hold media, and those among them that did not at the last scan. */
export function arrivals(occupied: ReadonlySet<string>, drives: readonly Drive[]): { occupied: Set<string>; arrived: Drive[] } {
  const present = drives.filter(hasMedia);
  return { occupied: new Set(present.map((d) => d.device)), arrived: present.filter((d) => !occupied.has(d.device)) };
}

/** null when the station may write the drive; otherwise why not. */
export function refusal(drive: Drive, filter: StationFilter, readerPath: string | null): string | null {
  if (filter.readerPath !== undefined && !(readerPath ?? '').startsWith(filter.readerPath)) {
    return `its reader ${readerPath ?? '(unknown)'} is not under --reader ${filter.readerPath}`;
  }
  if (drive.unsafeReasons.length > 0) return drive.unsafeReasons.join('; ');
  const size = drive.sizeBytes ?? 0;
  if (filter.minBytes !== undefined && size < filter.minBytes) return `${size} bytes is below --min-size (${filter.minBytes} bytes)`;
  if (filter.maxBytes !== undefined && size > filter.maxBytes) return `${size} bytes is above --max-size (${filter.maxBytes} bytes)`;
  return null;
}

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

/** "16G" (binary: GiB), "16GB" (decimal, as card labels count), "512M", or plain bytes. */
export function parseSize(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]B?|)$/i.exec(text.trim());
  const unit = match ? UNITS[(match[2] ?? '').toUpperCase()] : undefined;
  if (!match || unit === undefined) {
    throw new CardsmithError('bad-input', `${option} takes a size such as 8G (GiB), 16GB (decimal) or a byte count, not "${text}"`);
  }
  return Math.round(Number(match[1]) * unit);
}
