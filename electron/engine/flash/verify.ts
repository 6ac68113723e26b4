/**
 * Verification reads the card back with O_DIRECT (the page cache would only echo what was just
 * written) and compares: after a flash, with the per-block digests recorded while writing; on its
 * own, byte for byte against the image (mapped ranges only when a bmap says the rest is
 * unimportant) or against the checksums a bmap carries per range. Mismatches are byte ranges.
 */
import { createHash } from 'node:crypto';
import { rangeBytes, type Bmap } from '../sources/bmap';
import { CardsmithError } from '../errors';
import type { JobContext } from '../job';
import { alignedBuffers, alignUp } from './aligned';
import { differingRanges, mismatchedBlocks, type WrittenPiece } from './digests';
import type { TargetDevice } from './device';
import type { ImageInput } from './image-input';
import { mergeRanges, type ByteRange } from './plan';
import { CHUNK_BYTES } from './write';

const READS_IN_FLIGHT = 2;

export interface VerifyOutcome {
  readonly bytesChecked: number;
  readonly mismatches: readonly ByteRange[];
}

/** Reads `ranges` of the card in order, two reads ahead, handing each chunk to `check`. */
async function readAhead(
  target: TargetDevice,
  ranges: readonly ByteRange[],
  ctx: JobContext,
  check: (data: Buffer, range: ByteRange) => void | Promise<void>,
): Promise<number> {
  const chunks: ByteRange[] = ranges.flatMap((r) => {
    const out: ByteRange[] = [];
    for (let at = r.start; at < r.end; at += CHUNK_BYTES) out.push({ start: at, end: Math.min(r.end, at + CHUNK_BYTES) });
    return out;
  });
  const total = chunks.reduce((sum, c) => sum + c.end - c.start, 0);
  const progress = ctx.progress('verify', total);
  const free = alignedBuffers(READS_IN_FLIGHT + 1, CHUNK_BYTES);
  const pending: { range: ByteRange; buffer: Buffer; read: Promise<number> }[] = [];
  let next = 0;
  let done = 0;
  const issue = (): void => {
    const range = chunks[next++] as ByteRange;
    const buffer = free.pop() as Buffer;
    const read = target.read(buffer.subarray(0, alignUp(range.end - range.start, target.blockSize)), range.start);
    read.catch(() => undefined);
    pending.push({ range, buffer, read });
  };
  try {
    while (pending.length < READS_IN_FLIGHT && next < chunks.length) issue();
    while (pending.length > 0) {
      ctx.throwIfCancelled();
      const current = pending.shift() as (typeof pending)[number];
      const got = await current.read;
      const length = current.range.end - current.range.start;
      if (got < length) {
        throw CardsmithError.keyed('too-small', 'flash.cardEndedReading', { device: target.path, offset: current.range.start + got, last: current.range.end - 1 }, {
          device: target.path,
          offset: current.range.start + got,
        });
      }
      if (next < chunks.length) issue();
      await check(current.buffer.subarray(0, length), current.range);
      free.push(current.buffer);
      done += length;
      progress.update(done);
    }
  } finally {
    await Promise.allSettled(pending.map((p) => p.read));
  }
  progress.finish();
  return done;
}

/** After a flash: compare the card with the digests recorded while writing. */
export async function verifyWritten(target: TargetDevice, pieces: readonly WrittenPiece[], ctx: JobContext): Promise<VerifyOutcome> {
  const mismatches: ByteRange[] = [];
  let index = 0;
  // Pieces are at most one chunk and sorted, so each chunk read covers exactly one piece.
  const bytesChecked = await readAhead(target, pieces.map((p) => ({ start: p.start, end: p.start + p.length })), ctx, (data) => {
    mismatches.push(...mismatchedBlocks(pieces[index++] as WrittenPiece, data));
  });
  return { bytesChecked, mismatches: mergeRanges(mismatches) };
}

/** On its own: the card against the image, byte for byte (mapped ranges only with a bmap). */
export async function verifyAgainstImage(target: TargetDevice, input: ImageInput, deviceBytes: number, ctx: JobContext): Promise<VerifyOutcome> {
  const ranges = input.bmap ? input.bmap.ranges.map((r) => rangeBytes(input.bmap as Bmap, r)) : null;
  const expected = (alignedBuffers(1, CHUNK_BYTES)[0] as Buffer);
  const mismatches: ByteRange[] = [];
  let position = 0;
  const compare = async (data: Buffer, range: ByteRange): Promise<void> => {
    if (range.start > position) {
      await input.skip(range.start - position);
      position = range.start;
    }
    const want = range.end - range.start;
    const got = await input.read(expected.subarray(0, want));
    position += got;
    if (got < want) throw CardsmithError.keyed('source-corrupt', 'flash.imageEnded', { path: input.path, offset: position, expected: range.end }, { path: input.path, offset: position });
    mismatches.push(...differingRanges(expected.subarray(0, want), data, range.start));
  };
  if (ranges) {
    const bytesChecked = await readAhead(target, ranges, ctx, compare);
    const imageBytes = (input.bmap as Bmap).imageSize;
    await input.skip(imageBytes - position);
    await input.finish(imageBytes);
    return { bytesChecked, mismatches: mergeRanges(mismatches) };
  }
  if (input.sizeBytes !== null) {
    if (input.sizeBytes > deviceBytes) throw CardsmithError.keyed('too-small', 'flash.imageLarger', { imageBytes: input.sizeBytes, device: target.path, deviceBytes }, { imageBytes: input.sizeBytes, deviceBytes });
    const bytesChecked = await readAhead(target, [{ start: 0, end: input.sizeBytes }], ctx, compare);
    await input.finish(input.sizeBytes);
    return { bytesChecked, mismatches: mergeRanges(mismatches) };
  }
  // A stream of unknown size: read the image first, one chunk at a time, then the card there.
  const card = alignedBuffers(1, CHUNK_BYTES)[0] as Buffer;
  const progress = ctx.progress('verify', null);
  for (;;) {
    ctx.throwIfCancelled();
    const got = await input.read(expected);
    if (got === 0) break;
    if (position + got > deviceBytes) throw CardsmithError.keyed('too-small', 'flash.imageLargerThan', { device: target.path, deviceBytes }, { deviceBytes });
    const read = await target.read(card.subarray(0, Math.min(alignUp(got, target.blockSize), deviceBytes - position)), position);
    if (read < got) throw CardsmithError.keyed('too-small', 'flash.cardEnded', { device: target.path, offset: position + read }, { offset: position + read });
    mismatches.push(...differingRanges(expected.subarray(0, got), card.subarray(0, got), position));
    position += got;
    progress.update(position);
    if (got < expected.length) break;
  }
  await input.finish(position);
  progress.finish();
  return { bytesChecked: position, mismatches: mergeRanges(mismatches) };
}

/** On its own with only a bmap: each mapped range's checksum against the card's bytes there. */
export async function verifyAgainstBmap(target: TargetDevice, bmap: Bmap, ctx: JobContext): Promise<VerifyOutcome> {
  if (bmap.checksumType === null || bmap.ranges.some((r) => r.checksum === undefined)) {
    throw CardsmithError.keyed('bad-input', 'flash.bmapNoChecksums', {});
  }
  const type = bmap.checksumType;
  const ranges = bmap.ranges.map((r) => ({ ...rangeBytes(bmap, r), checksum: r.checksum as string }));
  const mismatches: ByteRange[] = [];
  let index = 0;
  let hash = createHash(type);
  const bytesChecked = await readAhead(target, ranges, ctx, (data, chunk) => {
    const range = ranges[index] as (typeof ranges)[number];
    hash.update(data);
    if (chunk.end === range.end) {
      if (hash.digest('hex') !== range.checksum.toLowerCase()) mismatches.push({ start: range.start, end: range.end });
      hash = createHash(type);
      index++;
    }
  });
  return { bytesChecked, mismatches: mergeRanges(mismatches) };
}
