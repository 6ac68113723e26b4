/**
 * The card picture's geometry. A card is gigabytes, its loader area a few hundred kilobytes; drawn
 * to one scale the loader would be invisible. So the picture has two zones, each linear: the boot
 * zone (byte 0 up to the first partition or the end of the last loader slot, whichever is later)
 * takes BOOT_ZONE_SHARE of the width, everything after it the rest. Offsets stay in bytes;
 * only positions on screen are percentages.
 */
import type { Board } from '../../../electron/engine/boards/model';
import type { Inspection } from '../../../electron/engine/disk/model';

export const BOOT_ZONE_SHARE = 0.3;

export type SegmentKind = 'table' | 'loader' | 'partition' | 'free';

export interface Segment {
  readonly kind: SegmentKind;
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
  readonly label: string;
  readonly leftPct: number;
  readonly widthPct: number;
}

export interface LayoutInput {
  readonly sizeBytes: number;
  readonly table: Inspection['table'];
  readonly partitions: Inspection['partitions'];
  /** Loader slots: planned writes from the board, or loaders found on the card. */
  readonly loaders: readonly { readonly start: number; readonly end: number; readonly label: string }[];
}

const TABLE_BYTES: Record<Inspection['table'], number> = { mbr: 512, gpt: 34 * 512, none: 0 };

export function loaderSlotsOf(board: Board): LayoutInput['loaders'] {
  return board.writes.map((w) => ({ start: w.offsetBytes, end: w.offsetBytes + w.maxBytes, label: w.file }));
}

export function loadersFoundOf(inspection: Inspection): LayoutInput['loaders'] {
  return inspection.loaders.map((l) => ({ start: l.offset, end: l.offset + (l.length ?? 512), label: l.kind }));
}

export function bootZoneEnd(input: LayoutInput): number {
  const firstPartition = Math.min(...input.partitions.map((p) => p.start), Infinity);
  const lastLoader = Math.max(...input.loaders.map((l) => l.end), TABLE_BYTES[input.table], 0);
  const end = Math.max(Number.isFinite(firstPartition) ? firstPartition : 0, lastLoader);
  return Math.min(end, input.sizeBytes);
}

/** Maps a byte offset to a percentage of the picture's width. */
export function positionOf(offset: number, zoneEnd: number, sizeBytes: number): number {
  if (sizeBytes <= 0) return 0;
  const clamped = Math.min(Math.max(offset, 0), sizeBytes);
  if (zoneEnd <= 0 || zoneEnd >= sizeBytes) return (clamped / sizeBytes) * 100;
  if (clamped <= zoneEnd) return (clamped / zoneEnd) * BOOT_ZONE_SHARE * 100;
  return (BOOT_ZONE_SHARE + ((clamped - zoneEnd) / (sizeBytes - zoneEnd)) * (1 - BOOT_ZONE_SHARE)) * 100;
}

/** Segments sorted by start; space no region claims becomes "free". Overlaps are kept as drawn. */
export function layoutSegments(input: LayoutInput): readonly Segment[] {
  const zoneEnd = bootZoneEnd(input);
  const raw: Omit<Segment, 'leftPct' | 'widthPct'>[] = [];
  if (input.table !== 'none') raw.push({ kind: 'table', start: 0, end: TABLE_BYTES[input.table], label: input.table.toUpperCase() });
  for (const loader of input.loaders) raw.push({ kind: 'loader', start: loader.start, end: loader.end, label: loader.label });
  for (const p of input.partitions) {
    raw.push({ kind: 'partition', start: p.start, end: p.start + p.size, label: p.label ?? p.filesystem ?? `#${p.index}` });
  }
  raw.sort((a, b) => a.start - b.start || a.end - b.end);
  const withFree: Omit<Segment, 'leftPct' | 'widthPct'>[] = [];
  let covered = 0;
  for (const segment of raw) {
    if (segment.start > covered) withFree.push({ kind: 'free', start: covered, end: segment.start, label: '' });
    withFree.push(segment);
    covered = Math.max(covered, segment.end);
  }
  if (covered < input.sizeBytes) withFree.push({ kind: 'free', start: covered, end: input.sizeBytes, label: '' });
  return withFree
    .filter((s) => s.end > s.start)
    .map((s) => {
      const left = positionOf(s.start, zoneEnd, input.sizeBytes);
      return { ...s, leftPct: left, widthPct: positionOf(s.end, zoneEnd, input.sizeBytes) - left };
    });
}
