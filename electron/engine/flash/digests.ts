/**
 * What was written, remembered for the readback: every written stretch of the card with a
 * sha256 per 64 KiB verify block. A mismatch on readback then names a 64 KiB-aligned byte range
 * rather than a whole chunk, at 32 bytes of memory per 64 KiB written (1 MiB for a 2 GiB image).
 */
import { createHash } from 'node:crypto';
import type { ByteRange } from './plan';

export const VERIFY_BLOCK = 64 * 1024;
const DIGEST = 32;

export interface WrittenPiece {
  readonly start: number;
  readonly length: number;
  /** sha256 of each VERIFY_BLOCK of the piece, concatenated (the last block may be short). */
  readonly digests: Buffer;
}

function digestBlocks(data: Uint8Array): Buffer {
  const blocks = Math.ceil(data.length / VERIFY_BLOCK);
  const out = Buffer.allocUnsafe(blocks * DIGEST);
  for (let i = 0; i < blocks; i++) {
    createHash('sha256')
      .update(data.subarray(i * VERIFY_BLOCK, Math.min(data.length, (i + 1) * VERIFY_BLOCK)))
      .digest()
      .copy(out, i * DIGEST);
  }
  return out;
}

export function digestPiece(data: Uint8Array, start: number): WrittenPiece {
  return { start, length: data.length, digests: digestBlocks(data) };
}

/** Digest block `index` of `piece`: its byte range on the card. */
export function blockRange(piece: WrittenPiece, index: number): ByteRange {
  const start = piece.start + index * VERIFY_BLOCK;
  return { start, end: Math.min(piece.start + piece.length, start + VERIFY_BLOCK) };
}

/** Whether `bytes` are what block `index` of `piece` recorded. */
export function blockMatches(piece: WrittenPiece, index: number, bytes: Uint8Array): boolean {
  return createHash('sha256').update(bytes).digest().equals(piece.digests.subarray(index * DIGEST, (index + 1) * DIGEST));
}

/** Records `bytes` as block `index` of `piece` (after something was written over it). */
export function redigestBlock(piece: WrittenPiece, index: number, bytes: Uint8Array): void {
  createHash('sha256').update(bytes).digest().copy(piece.digests, index * DIGEST);
}

/** Byte ranges of `piece` whose bytes read back as `actual` differ from what was written. */
export function mismatchedBlocks(piece: WrittenPiece, actual: Uint8Array): ByteRange[] {
  const got = digestBlocks(actual.subarray(0, piece.length));
  const ranges: ByteRange[] = [];
  for (let i = 0; i * DIGEST < piece.digests.length; i++) {
    if (got.compare(piece.digests, i * DIGEST, (i + 1) * DIGEST, i * DIGEST, (i + 1) * DIGEST) !== 0) {
      ranges.push({ start: piece.start + i * VERIFY_BLOCK, end: piece.start + Math.min(piece.length, (i + 1) * VERIFY_BLOCK) });
    }
  }
  return ranges;
}

/** Exact ranges where two equally long byte arrays differ, as absolute offsets from `base`. */
export function differingRanges(expected: Uint8Array, actual: Uint8Array, base: number): ByteRange[] {
  const ranges: ByteRange[] = [];
  if (Buffer.from(expected.buffer, expected.byteOffset, expected.length).equals(actual)) return ranges;
  let i = 0;
  while (i < expected.length) {
    if (expected[i] === actual[i]) {
      i++;
      continue;
    }
    const start = i;
    while (i < expected.length && expected[i] !== actual[i]) i++;
    ranges.push({ start: base + start, end: base + i });
  }
  return ranges;
}
