/**
 * The station's rules, free of Node and of the error classes, so the CLI and the app's Station
 * view take the same cards: which drives are new arrivals, and why a new one is refused (as data;
 * each front end words it itself).
 * A card is known by the device it appears as while it has media; a reader that loses its card
 * (device gone, or size 0/unknown as an empty USB reader reports) frees the device, so the next
 * card in the same reader counts as new. Everything with media when the station started is in
 * the first `occupied` set and so is never an arrival.
 */
import type { Drive, DriveReader } from '../drives/model';

export interface StationFilter {
  readonly minBytes?: number;
  readonly maxBytes?: number;
  /** Only cards whose reader path (sysfs port, or a loop device's backing file) starts with this. */
  readonly readerPath?: string;
}

export type Refusal =
  | { readonly kind: 'reader'; readonly readerPath: string | null; readonly wanted: string }
  | { readonly kind: 'unsafe'; readonly reasons: readonly string[] }
  | { readonly kind: 'below'; readonly sizeBytes: number; readonly minBytes: number }
  | { readonly kind: 'above'; readonly sizeBytes: number; readonly maxBytes: number };

export function hasMedia(drive: Drive): boolean {
  return drive.sizeBytes !== null && drive.sizeBytes > 0;
}

/** The devices that now hold media, and those among them that did not at the last scan. */
export function arrivals(occupied: ReadonlySet<string>, drives: readonly Drive[]): { occupied: Set<string>; arrived: Drive[] } {
  const present = drives.filter(hasMedia);
  return { occupied: new Set(present.map((d) => d.device)), arrived: present.filter((d) => !occupied.has(d.device)) };
}

/** The drive's reader as the scanner read it, every field null where the OS said nothing. */
export function readerOf(drive: Drive): DriveReader {
  return drive.reader ?? { vendor: null, model: null, serial: null, path: null };
}

/** null when the station may write the drive; otherwise why not. */
export function refusalOf(drive: Drive, filter: StationFilter): Refusal | null {
  const readerPath = readerOf(drive).path;
  if (filter.readerPath !== undefined && !(readerPath ?? '').startsWith(filter.readerPath)) return { kind: 'reader', readerPath, wanted: filter.readerPath };
  if (drive.unsafeReasons.length > 0) return { kind: 'unsafe', reasons: drive.unsafeReasons };
  const size = drive.sizeBytes ?? 0;
  if (filter.minBytes !== undefined && size < filter.minBytes) return { kind: 'below', sizeBytes: size, minBytes: filter.minBytes };
  if (filter.maxBytes !== undefined && size > filter.maxBytes) return { kind: 'above', sizeBytes: size, maxBytes: filter.maxBytes };
  return null;
}
