/**
 * The real-capacity probe, in the manner of f3probe but for any real size, not only powers of
 * two. With the claimed size split into T blocks of 4 KiB and K = 4⌈√T⌉:
 * - a dense run of K signed blocks at [0, K·4 KiB) and a grid of single signed blocks every
 *   K·4 KiB across the rest of the claimed size (plus the last block): K + T/K blocks. The dense
 *   run is one sequential write, a grid block a random one, which costs a card about as much as
 *   16 sequential blocks, so the run is 4× longer than the √T that would balance the counts;
 * - the grid is written from the top down, then the dense run, then everything is read back
 *   with O_DIRECT (no page cache).
 * On a card that wraps at R (address a lands on a mod R), the first grid position past R lands
 * inside the dense run, whose later write wins, so reading it returns the dense block exactly R
 * lower: the smallest address distance between a read position and the block it returned is R,
 * exact to the block. A card that drops writes past R (or returns wrong data) reads back nothing
 * signed (or damaged blocks) from the first bad position on; a bisection of single write+read
 * steps between the last good and first bad grid positions finds that edge to the block.
 */
import type { CapacityProbe, FailureKind } from './model';
import { classifyBlock, fillBlock, PROBE_BLOCK, type Nonce, type Reading } from './blocks';

export interface BlockDevice {
  write(data: Uint8Array, offset: number): Promise<void>;
  read(into: Uint8Array, offset: number): Promise<number>;
  sync(): Promise<void>;
}

export interface ProbeLayout {
  readonly blockBytes: number;
  /** Bytes of the dense run at offset 0 (also the grid step). */
  readonly denseBytes: number;
  /** Single-block positions past the dense run, ascending. */
  readonly grid: readonly number[];
}

const DENSE_FACTOR = 4;

/** Where the probe writes on a card claiming `claimedBytes`. */
export function probeLayout(claimedBytes: number): ProbeLayout {
  const blocks = Math.floor(claimedBytes / PROBE_BLOCK);
  const k = DENSE_FACTOR * Math.max(1, Math.ceil(Math.sqrt(blocks)));
  const denseBytes = Math.min(blocks, k) * PROBE_BLOCK;
  const grid: number[] = [];
  for (let at = denseBytes; at < blocks * PROBE_BLOCK; at += denseBytes) grid.push(at);
  const last = (blocks - 1) * PROBE_BLOCK;
  if (blocks > k && grid.at(-1) !== last) grid.push(last);
  return { blockBytes: PROBE_BLOCK, denseBytes, grid };
}

export interface ProbeIo {
  readonly device: BlockDevice;
  /** An O_DIRECT-aligned scratch buffer: `chunk` bytes for runs plus three blocks. */
  readonly buffer: Uint8Array;
  readonly chunkBytes: number;
  readonly nonce: Nonce;
  readonly claimedBytes: number;
  /** Bytes moved so far (for progress) and a cancellation check. */
  readonly onBytes: (bytes: number) => void;
  readonly throwIfCancelled: () => void;
  readonly log: (message: string) => void;
}

type Outcome = { readonly offset: number; readonly reading: Reading | { kind: 'read-error' } | { kind: 'write-error' } };

/** What a failed transfer becomes: an I/O error is a finding, anything else (cancel, device gone) ends the probe. */
function isIoError(error: unknown): boolean {
  return (error as { info?: { cause?: string } }).info?.cause === 'io';
}

async function writeBlock(io: ProbeIo, offset: number, failed: Set<number>): Promise<void> {
  const block = io.buffer.subarray(io.chunkBytes, io.chunkBytes + PROBE_BLOCK);
  fillBlock(block, io.nonce, offset);
  try {
    await io.device.write(block, offset);
  } catch (error) {
    if (!isIoError(error)) throw error;
    failed.add(offset);
  }
  io.onBytes(PROBE_BLOCK);
}

async function writeRun(io: ProbeIo, end: number, failed: Set<number>): Promise<void> {
  for (let start = 0; start < end; start += io.chunkBytes) {
    io.throwIfCancelled();
    const length = Math.min(io.chunkBytes, end - start);
    const chunk = io.buffer.subarray(0, length);
    for (let at = 0; at < length; at += PROBE_BLOCK) fillBlock(chunk.subarray(at, at + PROBE_BLOCK), io.nonce, start + at);
    try {
      await io.device.write(chunk, start);
      io.onBytes(length);
    } catch (error) {
      if (!isIoError(error)) throw error;
      for (let at = start; at < start + length; at += PROBE_BLOCK) await writeBlock(io, at, failed);
    }
  }
}

async function readBlock(io: ProbeIo, offset: number, failed: Set<number>): Promise<Outcome> {
  if (failed.has(offset)) return { offset, reading: { kind: 'write-error' } };
  const block = io.buffer.subarray(io.chunkBytes + PROBE_BLOCK, io.chunkBytes + 2 * PROBE_BLOCK);
  const scratch = io.buffer.subarray(io.chunkBytes + 2 * PROBE_BLOCK, io.chunkBytes + 3 * PROBE_BLOCK);
  try {
    await io.device.read(block, offset);
  } catch (error) {
    if (!isIoError(error)) throw error;
    return { offset, reading: { kind: 'read-error' } };
  }
  io.onBytes(PROBE_BLOCK);
  return { offset, reading: classifyBlock(block, offset, io.nonce, scratch) };
}

async function readRun(io: ProbeIo, end: number, failed: Set<number>, out: Outcome[]): Promise<void> {
  const scratch = io.buffer.subarray(io.chunkBytes + 2 * PROBE_BLOCK, io.chunkBytes + 3 * PROBE_BLOCK);
  for (let start = 0; start < end; start += io.chunkBytes) {
    io.throwIfCancelled();
    const length = Math.min(io.chunkBytes, end - start);
    const chunk = io.buffer.subarray(0, length);
    try {
      await io.device.read(chunk, start);
    } catch (error) {
      if (!isIoError(error)) throw error;
      for (let at = start; at < start + length; at += PROBE_BLOCK) out.push(await readBlock(io, at, failed));
      continue;
    }
    io.onBytes(length);
    for (let at = 0; at < length; at += PROBE_BLOCK) {
      const offset = start + at;
      out.push({ offset, reading: failed.has(offset) ? { kind: 'write-error' } : classifyBlock(chunk.subarray(at, at + PROBE_BLOCK), offset, io.nonce, scratch) });
    }
  }
}

const KIND: Record<Exclude<Outcome['reading']['kind'], 'good'>, FailureKind> = {
  alias: 'wrap-around',
  corrupt: 'corrupt-data',
  lost: 'lost-writes',
  'read-error': 'read-errors',
  'write-error': 'write-errors',
};

function detailOf(outcome: Outcome): string | undefined {
  const r = outcome.reading;
  if (r.kind === 'alias') return `returned the block written for byte ${r.from}`;
  if (r.kind === 'corrupt') return `${r.differing} of ${PROBE_BLOCK} bytes differ`;
  return undefined;
}

/** The bytes the probe wrote, for zeroing afterwards. */
export function probedRanges(layout: ProbeLayout, extra: readonly number[]): { start: number; end: number }[] {
  return [{ start: 0, end: layout.denseBytes }, ...[...layout.grid, ...extra].map((at) => ({ start: at, end: at + PROBE_BLOCK }))];
}

export interface ProbeRun {
  readonly result: CapacityProbe;
  /** Positions written beyond the layout (bisection steps). */
  readonly extraBlocks: readonly number[];
}

export async function probeCapacity(io: ProbeIo, layout: ProbeLayout = probeLayout(io.claimedBytes)): Promise<ProbeRun> {
  const failed = new Set<number>();
  for (const at of [...layout.grid].reverse()) {
    io.throwIfCancelled();
    await writeBlock(io, at, failed);
  }
  await io.device.sync();
  await writeRun(io, layout.denseBytes, failed);
  await io.device.sync();
  const outcomes: Outcome[] = [];
  await readRun(io, layout.denseBytes, failed, outcomes);
  for (const at of layout.grid) {
    io.throwIfCancelled();
    outcomes.push(await readBlock(io, at, failed));
  }
  const bad = outcomes.filter((o) => o.reading.kind !== 'good');
  let blocksWritten = layout.denseBytes / PROBE_BLOCK + layout.grid.length;
  const extraBlocks: number[] = [];

  // Wrap-around: every alias distance is a multiple of the real size; the smallest is the size.
  const distances = bad.flatMap((o) => (o.reading.kind === 'alias' ? [Math.abs(o.offset - o.reading.from)] : []));
  const wrap = distances.length > 0 ? Math.min(...distances) : null;
  let realBytes = wrap ?? io.claimedBytes;
  const firstOther = bad.find((o) => o.reading.kind !== 'alias');
  if (firstOther && firstOther.offset < realBytes) {
    // The edge lies between the last probe position read good below it and it: bisect with single blocks.
    const below = outcomes.filter((o) => o.offset < firstOther.offset && o.reading.kind === 'good').at(-1);
    let lo = below ? below.offset : -PROBE_BLOCK;
    let hi = firstOther.offset;
    while (hi - lo > PROBE_BLOCK) {
      io.throwIfCancelled();
      const mid = lo + Math.floor((hi - lo) / 2 / PROBE_BLOCK) * PROBE_BLOCK;
      const stepFailed = new Set<number>();
      await writeBlock(io, mid, stepFailed);
      await io.device.sync();
      extraBlocks.push(mid);
      blocksWritten++;
      const step = await readBlock(io, mid, stepFailed);
      if (step.reading.kind === 'good') lo = mid;
      else {
        hi = mid;
        bad.push(step);
      }
    }
    realBytes = hi;
  }
  bad.sort((a, b) => a.offset - b.offset);
  const kinds = [...new Set(bad.map((o) => KIND[o.reading.kind as keyof typeof KIND]))];
  io.log(`probe: ${outcomes.length} positions read, ${bad.length} bad; real size ${realBytes} of ${io.claimedBytes}`);
  return {
    extraBlocks,
    result: {
      claimedBytes: io.claimedBytes,
      realBytes,
      resolutionBytes: PROBE_BLOCK,
      failures: kinds,
      badBlocks: bad.slice(0, 32).map((o) => ({ offset: o.offset, kind: KIND[o.reading.kind as keyof typeof KIND], ...(detailOf(o) ? { detail: detailOf(o) } : {}) })),
      badBlockCount: bad.length,
      blocksWritten,
      blockBytes: PROBE_BLOCK,
    },
  };
}
