/**
 * Patches: bytes laid on the card after the image body and before its held-back first MiB — the
 * board's loader, placed by the boards planner. A patch may start or end inside a logical block,
 * so outside the first MiB it is written read-modify-write over whole aligned blocks; inside the
 * first MiB it goes into the held-back head buffer and reaches the card in the final write. The
 * card is read "as it will be": its own bytes, with the pending first MiB laid over them.
 */
import type { ReadAt } from '../disk/read-layout';
import { alignedBuffers, alignUp } from './aligned';
import { blockMatches, blockRange, digestPiece, redigestBlock, VERIFY_BLOCK, type WrittenPiece } from './digests';
import type { TargetDevice } from './device';
import { HEAD_BYTES, type ByteRange } from './plan';

const WASM_PAGE = 65536;

export interface Patch {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

function alignedSpan(target: TargetDevice, offset: number, length: number): { start: number; buffer: Buffer } {
  const start = Math.floor(offset / target.blockSize) * target.blockSize;
  const end = alignUp(offset + length, target.blockSize);
  const buffer = (alignedBuffers(1, alignUp(end - start, WASM_PAGE))[0] as Buffer).subarray(0, end - start);
  return { start, buffer };
}

/** Reads the card at any offset and length through whole aligned blocks (O_DIRECT-safe). */
export function cardReader(target: TargetDevice, deviceBytes: number): ReadAt {
  return async (offset, length) => {
    const end = Math.min(offset + length, deviceBytes);
    if (end <= offset) return new Uint8Array(0);
    const { start, buffer } = alignedSpan(target, offset, end - offset);
    const got = await target.read(buffer.subarray(0, Math.min(buffer.length, deviceBytes - start)), start);
    return Uint8Array.from(buffer.subarray(offset - start, Math.max(offset - start, Math.min(got, end - start))));
  };
}

/** Reads the card as it will be: its own bytes, the pending first MiB (`head`) overlaid. */
export function pendingCardReader(target: TargetDevice, head: Uint8Array, deviceBytes: number): ReadAt {
  const card = cardReader(target, deviceBytes);
  return async (offset, length) => {
    const end = Math.min(offset + length, deviceBytes);
    if (end <= offset) return new Uint8Array(0);
    const out = new Uint8Array(end - offset);
    if (end > HEAD_BYTES) {
      const from = Math.max(offset, HEAD_BYTES);
      out.set(await card(from, end - from), from - offset);
    }
    if (offset < HEAD_BYTES) out.set(head.subarray(offset, Math.min(end, HEAD_BYTES)), 0);
    return out;
  };
}

/** Writes `bytes` at `offset` (past the first MiB), keeping the card's bytes around it in partial blocks. */
export async function writePatchBody(target: TargetDevice, offset: number, bytes: Uint8Array): Promise<void> {
  const { start, buffer } = alignedSpan(target, offset, bytes.length);
  if (start !== offset || buffer.length !== bytes.length) await target.read(buffer, start);
  buffer.set(bytes, offset - start);
  await target.write(buffer, start);
}

/** Digests of a patch in pieces of at most `maxPiece` bytes (the verifier reads one chunk per piece). */
export function patchPieces(patch: Patch, maxPiece: number): WrittenPiece[] {
  const pieces: WrittenPiece[] = [];
  for (let at = 0; at < patch.bytes.length; at += maxPiece) pieces.push(digestPiece(patch.bytes.subarray(at, at + maxPiece), patch.offset + at));
  return pieces;
}

/**
 * Before patches go over image data whose digests were recorded (a stream source): each digest
 * block they touch is read back now and checked (its image bytes are about to disappear), then
 * re-digested as it will be with the patches laid over it. Returns the blocks that did not read
 * back as written.
 */
export async function redigestUnderPatches(pieces: readonly WrittenPiece[], patches: readonly Patch[], read: ReadAt): Promise<ByteRange[]> {
  const mismatches: ByteRange[] = [];
  for (const piece of pieces) {
    const touched = new Set<number>();
    for (const patch of patches) {
      const from = Math.max(piece.start, patch.offset);
      const to = Math.min(piece.start + piece.length, patch.offset + patch.bytes.length);
      for (let at = from; at < to; at = piece.start + (Math.floor((at - piece.start) / VERIFY_BLOCK) + 1) * VERIFY_BLOCK) touched.add(Math.floor((at - piece.start) / VERIFY_BLOCK));
    }
    for (const index of touched) {
      const range = blockRange(piece, index);
      const bytes = await read(range.start, range.end - range.start);
      if (!blockMatches(piece, index, bytes)) mismatches.push(range);
      for (const patch of patches) {
        const from = Math.max(range.start, patch.offset);
        const to = Math.min(range.end, patch.offset + patch.bytes.length);
        if (from < to) bytes.set(patch.bytes.subarray(from - patch.offset, to - patch.offset), from - range.start);
      }
      redigestBlock(piece, index, bytes);
    }
  }
  return mismatches;
}
