/**
 * The order of writes on a card. First the card's first and last MiB are zeroed (a stale backup
 * GPT at the end would otherwise survive a shorter image, and a zeroed start means an interrupted
 * flash never looks like a valid card). Then the image is laid down in order: data segments
 * copied from the source, hole segments (blocks a bmap leaves unmapped) skipped in the source and
 * zeroed on the card so a later verify against the image is deterministic. The image's own first
 * MiB is held back and written last. Pure: sizes and ranges in, plan out, or a refusal.
 */
import { CardsmithError } from '../errors';

export const HEAD_BYTES = 1 << 20;
export const TAIL_BYTES = 1 << 20;

export interface ByteRange {
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

/** A stretch of the image: bytes to copy from the source, or a hole to skip and zero. */
export interface Segment {
  readonly kind: 'data' | 'hole';
  readonly start: number;
  /** Exclusive; null for a data segment that runs to the end of a stream of unknown size. */
  readonly end: number | null;
}

export interface WritePlan {
  readonly preZero: readonly ByteRange[];
  readonly segments: readonly Segment[];
  /** Image bytes [0, headBytes) are buffered and written after everything else. */
  readonly headBytes: number;
  /** Bytes that will be written from the source (null when the size is unknown). */
  readonly dataBytes: number | null;
}

export interface PlanInput {
  readonly deviceBytes: number;
  /** Decompressed image size, or null for a stream whose size is not known up front. */
  readonly imageBytes: number | null;
  /** Mapped byte ranges from a bmap (sorted, non-overlapping), or null: every byte is data. */
  readonly mapped: readonly ByteRange[] | null;
}

export function tooSmall(imageBytes: number, deviceBytes: number, device?: string): CardsmithError {
  const details = { imageBytes, deviceBytes, ...(device ? { device } : {}) };
  return device ? CardsmithError.keyed('too-small', 'flash.tooSmallCard', { imageBytes, deviceBytes, device }, details) : CardsmithError.keyed('too-small', 'flash.tooSmall', { imageBytes, deviceBytes }, details);
}

export function planWrite(input: PlanInput): WritePlan {
  const { deviceBytes, imageBytes, mapped } = input;
  if (imageBytes !== null && imageBytes > deviceBytes) throw tooSmall(imageBytes, deviceBytes);
  const preZero: ByteRange[] = [{ start: 0, end: Math.min(HEAD_BYTES, deviceBytes) }];
  const tailStart = Math.max(HEAD_BYTES, deviceBytes - TAIL_BYTES);
  if (tailStart < deviceBytes) preZero.push({ start: tailStart, end: deviceBytes });

  if (mapped === null) {
    return {
      preZero,
      segments: [{ kind: 'data', start: 0, end: imageBytes }],
      headBytes: imageBytes === null ? HEAD_BYTES : Math.min(HEAD_BYTES, imageBytes),
      dataBytes: imageBytes,
    };
  }
  if (imageBytes === null) throw CardsmithError.keyed('bad-input', 'flash.bmapNoSize', {});
  const segments: Segment[] = [];
  let position = 0;
  let dataBytes = 0;
  for (const range of mapped) {
    if (range.start < position || range.end > imageBytes || range.end <= range.start) {
      throw CardsmithError.keyed('bad-input', 'flash.bmapRange', { start: range.start, end: range.end, imageBytes }, { ...range, imageBytes });
    }
    if (range.start > position) segments.push({ kind: 'hole', start: position, end: range.start });
    segments.push({ kind: 'data', start: range.start, end: range.end });
    dataBytes += range.end - range.start;
    position = range.end;
  }
  if (position < imageBytes) segments.push({ kind: 'hole', start: position, end: imageBytes });
  return { preZero, segments: mergeAdjacent(segments), headBytes: Math.min(HEAD_BYTES, imageBytes), dataBytes };
}

function mergeAdjacent(segments: readonly Segment[]): Segment[] {
  const merged: Segment[] = [];
  for (const segment of segments) {
    const last = merged[merged.length - 1];
    if (last && last.kind === segment.kind && last.end === segment.start) merged[merged.length - 1] = { ...last, end: segment.end };
    else merged.push(segment);
  }
  return merged;
}

/** Sorted ranges merged where they touch, for reporting mismatches. */
export function mergeRanges(ranges: readonly ByteRange[]): ByteRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const merged: ByteRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range.start <= last.end) merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, range.end) };
    else merged.push(range);
  }
  return merged;
}

/** `ranges` with every byte inside `cut` removed (ranges split where a cut falls inside). */
export function subtractRanges(ranges: readonly ByteRange[], cut: readonly ByteRange[]): ByteRange[] {
  let out = [...ranges];
  for (const c of cut) {
    out = out.flatMap((r) => {
      if (c.end <= r.start || c.start >= r.end) return [r];
      const parts: ByteRange[] = [];
      if (r.start < c.start) parts.push({ start: r.start, end: c.start });
      if (c.end < r.end) parts.push({ start: c.end, end: r.end });
      return parts;
    });
  }
  return out;
}
