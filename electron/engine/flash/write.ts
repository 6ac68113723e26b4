/**
 * The write pipeline: source bytes into page-aligned 4 MiB chunks, several O_DIRECT writes in
 * flight while the next chunk is read (or decompressed), in the order plan.ts lays down — pre-zero
 * head and tail, data and zeroed holes in image order, the image's first MiB last, then fsync.
 * Whatever stops it (cancel, an I/O error, a damaged source) it waits for the writes in flight and
 * leaves the card's first MiB zeroed, so a half-written card never passes for a good one.
 */
import { CardsmithError } from '../errors';
import type { JobContext } from '../job';
import { alignedBuffers, alignUp } from './aligned';
import { digestPiece, type WrittenPiece } from './digests';
import { ZeroProbe, zeroRuns, type HolePolicy } from './holes';
import type { TargetDevice } from './device';
import type { ImageInput } from './image-input';
import { pendingCardReader, patchPieces, redigestUnderPatches, writePatchBody, type Patch } from './patch';
import { HEAD_BYTES, subtractRanges, tooSmall, type ByteRange, type WritePlan } from './plan';
import type { ReadAt } from '../disk/read-layout';
import type { ZeroOut } from './zero-out';

export const CHUNK_BYTES = 4 << 20;
export const WRITES_IN_FLIGHT = 3;

export interface WriteOptions {
  /** Keep per-block digests of what was written, for the readback. */
  readonly recordDigests: boolean;
  readonly deviceBytes: number;
  /**
   * Called once the image body is on the card, before its first MiB; `read` sees the card as it
   * will be. The patches it returns (the board's loader) are written before the first MiB, and
   * those inside the first MiB go out with it.
   */
  readonly patches?: (read: ReadAt) => Promise<readonly Patch[]>;
  /** Zeroes large holes without writing them (BLKZEROOUT), when the target allows. */
  readonly zeroOut?: ZeroOut | null;
  /** What bmap holes and runs of zeros in the data get (holes.ts). */
  readonly holes: HolePolicy;
}

export interface WriteOutcome {
  /** Size of the image as it turned out (a stream's size is known only at its end). */
  readonly imageBytes: number;
  /** Bytes of image data written (holes excluded). */
  readonly dataBytes: number;
  readonly pieces: readonly WrittenPiece[];
  /** Digests of the patches as written (always kept: they differ from the image there). */
  readonly patchPieces: readonly WrittenPiece[];
  /** Recorded blocks under the patches that did not read back as written (checked before patching). */
  readonly earlyMismatches: readonly ByteRange[];
  /** Bytes zeroed by BLKZEROOUT instead of written. */
  readonly zeroedOutBytes: number;
  /** Bytes of zeros (holes or data) not written because the card read zero there already. */
  readonly unwrittenZeroBytes: number;
  /** Bytes of bmap holes left as the card had them (policy skip). */
  readonly skippedHoleBytes: number;
}

/** Thrown inside the pipeline; carries whether the card's first MiB is known to be zero. */
export class InterruptedWrite extends Error {
  constructor(
    readonly reason: unknown,
    readonly headZeroed: boolean,
  ) {
    super('write interrupted');
  }
}

export class Writer {
  private readonly free: Buffer[];
  private readonly zero: Buffer;
  readonly head: Buffer;
  private readonly inflight: Promise<void>[] = [];

  constructor(private readonly target: TargetDevice) {
    const buffers = alignedBuffers(WRITES_IN_FLIGHT + 3, CHUNK_BYTES);
    this.zero = buffers.pop() as Buffer;
    this.head = (buffers.pop() as Buffer).subarray(0, HEAD_BYTES);
    this.free = buffers;
  }

  /** Milliseconds spent waiting for the card to take writes (see Bottleneck). */
  cardWaitMs = 0;

  private async waitOldest(): Promise<void> {
    const started = performance.now();
    await this.inflight.shift();
    this.cardWaitMs += performance.now() - started;
  }

  /** A free chunk buffer; waits for the oldest write when all are in use. */
  async acquire(): Promise<Buffer> {
    while (this.free.length === 0) await this.waitOldest();
    return this.free.pop() as Buffer;
  }

  /** `owned`: this writer's buffer to take back, or how to give back a buffer the input lent, once written. */
  async submit(data: Buffer, offset: number, owned: Buffer | (() => void) | null): Promise<void> {
    while (this.inflight.length >= WRITES_IN_FLIGHT) await this.waitOldest();
    const write = this.target.write(data, offset).finally(() => {
      if (typeof owned === 'function') owned();
      else if (owned) this.free.push(owned);
    });
    write.catch(() => undefined);
    this.inflight.push(write);
  }

  /** Writes `parts` (ranges of `buffer`) at `offset` + their start; the buffer is free again once all are done. */
  async submitParts(buffer: Buffer, offset: number, parts: readonly ByteRange[], lent?: () => void): Promise<void> {
    let left = parts.length;
    const done = lent ?? ((): void => void this.free.push(buffer));
    if (left === 0) done();
    for (const part of parts) {
      while (this.inflight.length >= WRITES_IN_FLIGHT) await this.waitOldest();
      const write = this.target.write(buffer.subarray(part.start, part.end), offset + part.start).finally(() => {
        if (--left === 0) done();
      });
      write.catch(() => undefined);
      this.inflight.push(write);
    }
  }

  /** Writes zeros over [start, end), in chunk-sized aligned writes; `check` runs before each. */
  async zeroRange(start: number, end: number, check: () => void = () => undefined): Promise<void> {
    for (let at = start; at < end; at += CHUNK_BYTES) {
      check();
      await this.submit(this.zero.subarray(0, Math.min(CHUNK_BYTES, end - at)), at, null);
    }
  }

  async drain(): Promise<void> {
    while (this.inflight.length > 0) await this.inflight.shift();
  }

  async settle(): Promise<void> {
    await Promise.allSettled(this.inflight.splice(0));
  }

  release(buffer: Buffer): void {
    this.free.push(buffer);
  }
}

/** Judged once a second: did the writer wait longer for source bytes or for the card? */
const BOTTLENECK_WINDOW_MS = 1000;

class Bottleneck {
  private sourceMs = 0;
  /** Card time outside the writer's own waits (reads before writing zeros). */
  private readMs = 0;
  private from = { at: performance.now(), source: 0, card: 0 };
  private verdict: 'card' | 'source' | undefined;

  constructor(private readonly writer: Writer) {}

  private async timed<T>(work: Promise<T>, add: (ms: number) => void): Promise<T> {
    const started = performance.now();
    try {
      return await work;
    } finally {
      add(performance.now() - started);
    }
  }

  source<T>(work: Promise<T>): Promise<T> {
    return this.timed(work, (ms) => (this.sourceMs += ms));
  }

  card<T>(work: Promise<T>): Promise<T> {
    return this.timed(work, (ms) => (this.readMs += ms));
  }

  get limitedBy(): 'card' | 'source' | undefined {
    const now = performance.now();
    if (now - this.from.at >= BOTTLENECK_WINDOW_MS) {
      const source = this.sourceMs - this.from.source;
      const card = this.writer.cardWaitMs + this.readMs - this.from.card;
      if (source + card > 0) this.verdict = source > card ? 'source' : 'card';
      this.from = { at: now, source: this.sourceMs, card: this.writer.cardWaitMs + this.readMs };
    }
    return this.verdict;
  }
}

export async function writeImage(input: ImageInput, target: TargetDevice, plan: WritePlan, ctx: JobContext, options: WriteOptions): Promise<WriteOutcome> {
  const writer = new Writer(target);
  const align = (n: number, from: number): number => Math.min(alignUp(n, target.blockSize), options.deviceBytes - from);
  const pieces: WrittenPiece[] = [];
  const headData: ByteRange[] = [];
  let headZeroed = false;
  let headTouched = false;
  let position = 0;
  let dataBytes = 0;
  let zeroedOutBytes = 0;
  let skippedHoleBytes = 0;
  const probe = options.holes === 'zero' ? null : new ZeroProbe(target, CHUNK_BYTES, (m) => ctx.log('info', m));
  const check = (): void => ctx.throwIfCancelled();
  const written: WrittenPiece[] = [];
  const earlyMismatches: ByteRange[] = [];
  const progress = ctx.progress('write', input.sizeBytes);
  const bottleneck = new Bottleneck(writer);

  try {
    for (const range of plan.preZero) await writer.zeroRange(range.start, range.end);
    await writer.drain();
    headZeroed = true;
    ctx.log('debug', `zeroed the first and last MiB of ${target.path}`);

    for (const segment of plan.segments) {
      if (segment.kind === 'hole') {
        const end = segment.end as number;
        if ((await input.skip(end - position)) !== end - position) throw shortSource(input, position, end);
        const from = Math.max(HEAD_BYTES, segment.start);
        if (from < end && options.holes === 'skip') skippedHoleBytes += end - from;
        else if (from < end) {
          zeroedOutBytes += await fillHole(writer, probe, options.zeroOut ?? null, from, align(end, 0), check);
          // The policy promises zeros here, so the readback checks them.
          if (options.recordDigests) pieces.push(...zeroPieces(from, end));
        }
        position = end;
        progress.update(position);
        continue;
      }
      // Data that falls in the card's first MiB goes to the held-back head buffer.
      if (position < HEAD_BYTES) {
        const want = Math.min(HEAD_BYTES, segment.end ?? HEAD_BYTES) - position;
        const got = await input.read(writer.head.subarray(position, position + want));
        if (got > 0) headData.push({ start: position, end: position + got });
        position += got;
        dataBytes += got;
        if (got < want) {
          if (segment.end !== null) throw shortSource(input, position, segment.end);
          break;
        }
      }
      while (segment.end === null || position < segment.end) {
        ctx.throwIfCancelled();
        const want = Math.min(CHUNK_BYTES, (segment.end ?? Infinity) - position);
        // An input that fans one image out to several cards lends its own buffer (no copy); a card
        // it left behind gets null and reads into the writer's buffers instead.
        const lent = input.lend ? await bottleneck.source(input.lend(want)) : null;
        const buffer = lent ? lent.buffer : await writer.acquire();
        const got = lent ? lent.got : await bottleneck.source(input.read(buffer.subarray(0, want)));
        const owned = lent ? lent.release : buffer;
        if (got === 0) {
          if (lent) lent.release();
          else writer.release(buffer);
          if (segment.end !== null) throw shortSource(input, position, segment.end);
          break;
        }
        if (position + got > options.deviceBytes) throw tooSmall(position + got, options.deviceBytes, target.path);
        const padded = align(got, position);
        buffer.fill(0, got, padded);
        if (options.recordDigests) pieces.push(digestPiece(buffer.subarray(0, got), position));
        const zero = probe?.worthIt ? zeroRuns(buffer.subarray(0, padded)) : [];
        if (zero.length === 0) await writer.submit(buffer.subarray(0, padded), position, owned);
        else {
          // Zero runs the card already holds need no write; the rest of the chunk is written.
          const unneeded: ByteRange[] = [];
          for (const run of zero) if (await bottleneck.card((probe as ZeroProbe).readsZero(position + run.start, run.end - run.start))) unneeded.push(run);
          await writer.submitParts(buffer, position, subtractRanges([{ start: 0, end: padded }], unneeded), lent?.release);
        }
        position += got;
        dataBytes += got;
        progress.update(position, bottleneck.limitedBy);
        if (got < want) {
          if (segment.end !== null) throw shortSource(input, position, segment.end);
          break;
        }
      }
    }
    await input.finish(position);
    await writer.drain();
    ctx.throwIfCancelled();

    let headEnd = headData.length > 0 ? (headData[headData.length - 1] as ByteRange).end : 0;
    if (options.patches) {
      const read = pendingCardReader(target, writer.head, options.deviceBytes);
      const patches = await options.patches(read);
      if (options.recordDigests) earlyMismatches.push(...(await redigestUnderPatches(pieces, patches, read)));
      for (const patch of patches) {
        const inHead = patch.bytes.subarray(0, Math.max(0, HEAD_BYTES - patch.offset));
        if (inHead.length > 0) {
          writer.head.set(inHead, patch.offset);
          headEnd = Math.max(headEnd, patch.offset + inHead.length);
        }
        if (inHead.length < patch.bytes.length) await writePatchBody(target, patch.offset + inHead.length, patch.bytes.subarray(inHead.length));
        written.push(...patchPieces(patch, CHUNK_BYTES));
      }
      ctx.throwIfCancelled();
    }
    if (headEnd > 0) {
      headTouched = true;
      await target.write(writer.head.subarray(0, align(headEnd, 0)), 0);
      if (options.recordDigests) for (const r of headData) pieces.push(digestPiece(writer.head.subarray(r.start, r.end), r.start));
    }
    await target.sync();
    progress.setTotal(position);
    progress.finish();
    pieces.sort((a, b) => a.start - b.start);
    return { imageBytes: position, dataBytes, pieces, patchPieces: written, earlyMismatches, zeroedOutBytes, unwrittenZeroBytes: probe?.unwrittenBytes ?? 0, skippedHoleBytes };
  } catch (error) {
    await writer.settle();
    if (headTouched || !headZeroed) headZeroed = await zeroHead(target, writer, Math.min(HEAD_BYTES, options.deviceBytes), ctx);
    throw new InterruptedWrite(error, headZeroed);
  }
}

/**
 * Zeroes a hole the policy promises as zeros: with a probe, chunk by chunk where the card does not
 * read zero already (until the card proves dirty); the rest by zeroHole. Returns the bytes zeroed out.
 */
async function fillHole(writer: Writer, probe: ZeroProbe | null, zeroOut: ZeroOut | null, start: number, end: number, check: () => void): Promise<number> {
  let at = start;
  while (probe?.worthIt && at < end) {
    check();
    const length = Math.min(CHUNK_BYTES, end - at);
    if (!(await probe.readsZero(at, length))) await writer.zeroRange(at, at + length);
    at += length;
  }
  return at < end ? zeroHole(writer, zeroOut, at, end, check) : 0;
}

let zeroChunkDigests: WrittenPiece | null = null;

/** Digest pieces of zeros over [start, end), one per chunk (a full chunk's digests hashed once). */
function zeroPieces(start: number, end: number): WrittenPiece[] {
  zeroChunkDigests ??= digestPiece(Buffer.alloc(CHUNK_BYTES), 0);
  const pieces: WrittenPiece[] = [];
  for (let at = start; at < end; at += CHUNK_BYTES) {
    const length = Math.min(CHUNK_BYTES, end - at);
    // A copy: digests under a loader patch are rewritten in place.
    pieces.push(length === CHUNK_BYTES ? { start: at, length, digests: Buffer.from(zeroChunkDigests.digests) } : digestPiece(Buffer.alloc(length), at));
  }
  return pieces;
}

/** Zeroes a hole: the aligned middle of a large one by BLKZEROOUT when possible, the rest by writes. Returns the bytes zeroed out. */
async function zeroHole(writer: Writer, zeroOut: ZeroOut | null, start: number, end: number, check: () => void): Promise<number> {
  const done = zeroOut ? await zeroOut(start, end, check) : null;
  if (!done) {
    await writer.zeroRange(start, end, check);
    return 0;
  }
  await writer.zeroRange(start, done.start, check);
  await writer.zeroRange(done.end, end, check);
  return done.end - done.start;
}

function shortSource(input: ImageInput, at: number, expected: number): CardsmithError {
  return CardsmithError.keyed('source-corrupt', 'flash.imageShort', { path: input.path, offset: at, expected }, {
    path: input.path,
    offset: at,
    expected,
  });
}

/** Best effort after a failure: zero the first MiB again; reports whether that worked. */
export async function zeroHead(target: TargetDevice, writer: Writer | null, bytes: number, ctx: JobContext): Promise<boolean> {
  try {
    if (writer) {
      await writer.zeroRange(0, bytes);
      await writer.drain();
    } else {
      await target.write((alignedBuffers(1, HEAD_BYTES)[0] as Buffer).subarray(0, bytes), 0);
    }
    await target.sync();
    return true;
  } catch (error) {
    ctx.log('error', `could not zero the first MiB of ${target.path}: ${(error as Error).message}`);
    return false;
  }
}
