/**
 * Speed, measured at queue depth 1 with O_DIRECT inside the card's good region: sequential
 * read and write in 4 MiB transfers, random 4 KiB reads across the good region and random 4 KiB
 * writes inside the sequential region (which the sequential write then zeroes). Judged against
 * the SD Association's classes: speed classes by sequential write (C10/U1 10 MB/s, U3/V30
 * 30 MB/s) and application classes by random 4 KiB IOPS (A1 1500 read / 500 write, A2 4000 / 2000).
 */
import { english, message, type Message } from '../messages';
import type { Speed } from './model';
import type { BlockDevice } from './probe';

const MB = 1e6;
const RANDOM_BLOCK = 4096;

export interface SpeedLimits {
  /** Random operations per test, at most, and the time each random test may take. */
  readonly maxOps: number;
  readonly maxMs: number;
}

// Enough operations for a stable rate on a card (hundreds at its IOPS), short enough to keep the check quick.
export const DEFAULT_LIMITS: SpeedLimits = { maxOps: 1000, maxMs: 500 };

export interface Measured {
  readonly sequentialWriteMBps: number;
  readonly sequentialReadMBps: number;
  readonly randomWriteIops: number;
  readonly randomReadIops: number;
}

const SPEED_CLASSES: readonly [string, number][] = [['C10', 10], ['U1', 10], ['U3', 30], ['V30', 30]];
const APP_CLASSES: readonly [string, number, number][] = [['A1', 1500, 500], ['A2', 4000, 2000]];

/** The classes the measured speeds reach. */
function classesOf(m: Measured): string[] {
  return [
    ...SPEED_CLASSES.filter(([, mbps]) => m.sequentialWriteMBps >= mbps).map(([name]) => name),
    ...APP_CLASSES.filter(([, r, w]) => m.randomReadIops >= r && m.randomWriteIops >= w && m.sequentialWriteMBps >= 10).map(([name]) => name),
  ];
}

// Below class 4 an image takes ages to write; below ~10 write IOPS a root filesystem stalls on every package install.
const isTooSlow = (m: Measured): boolean => m.sequentialWriteMBps < 4 || m.randomWriteIops < 10;

/** What the measured speeds mean for a person, as a keyed message (pure). */
export function speedMessage(m: Measured): Message {
  const classes = classesOf(m);
  const numbers = { mbps: Math.round(m.sequentialWriteMBps * 10) / 10, readIops: Math.round(m.randomReadIops), writeIops: Math.round(m.randomWriteIops) };
  if (isTooSlow(m)) return message('speed.tooSlow', numbers);
  if (classes.includes('A1')) return message('speed.fineForOs', { ...numbers, classes: classes.join(', ') });
  if (m.randomWriteIops < 500 || m.randomReadIops < 1500) return message('speed.slowForRoot', numbers);
  return message('speed.slowForImages', numbers);
}

/** The classes the measured speeds reach and what that means for a person (pure). */
export function judgeSpeed(m: Measured): { classes: string[]; summary: string; tooSlow: boolean } {
  return { classes: classesOf(m), summary: english(speedMessage(m)), tooSlow: isTooSlow(m) };
}

export interface SpeedIo {
  readonly device: BlockDevice;
  /** Aligned buffer of at least `chunkBytes` + one random block. */
  readonly buffer: Uint8Array;
  readonly chunkBytes: number;
  /** [0, sequentialBytes) is written (it ends zeroed); random reads go anywhere below goodBytes. */
  readonly sequentialBytes: number;
  readonly goodBytes: number;
  readonly limits: SpeedLimits;
  readonly onBytes: (bytes: number) => void;
  readonly throwIfCancelled: () => void;
}

function* randomBlocks(limitBytes: number, seed: number): Generator<number> {
  let x = seed >>> 0 || 1;
  const blocks = Math.floor(limitBytes / RANDOM_BLOCK);
  for (;;) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    yield ((x >>> 0) % blocks) * RANDOM_BLOCK;
  }
}

async function randomOps(io: SpeedIo, limitBytes: number, seed: number, op: (at: number) => Promise<unknown>): Promise<{ ops: number; iops: number }> {
  const started = performance.now();
  let ops = 0;
  for (const at of randomBlocks(limitBytes, seed)) {
    if (ops >= io.limits.maxOps || (ops > 0 && performance.now() - started >= io.limits.maxMs)) break;
    if (ops % 64 === 0) io.throwIfCancelled();
    await op(at);
    io.onBytes(RANDOM_BLOCK);
    ops++;
  }
  const seconds = (performance.now() - started) / 1000;
  return { ops, iops: seconds > 0 ? ops / seconds : 0 };
}

async function sequential(io: SpeedIo, op: (chunk: Uint8Array, at: number) => Promise<unknown>, finish?: () => Promise<void>): Promise<number> {
  const started = performance.now();
  for (let at = 0; at < io.sequentialBytes; at += io.chunkBytes) {
    io.throwIfCancelled();
    const length = Math.min(io.chunkBytes, io.sequentialBytes - at);
    await op(io.buffer.subarray(0, length), at);
    io.onBytes(length);
  }
  await finish?.();
  const seconds = (performance.now() - started) / 1000;
  return seconds > 0 ? io.sequentialBytes / MB / seconds : 0;
}

/** Runs the four tests; afterwards [0, sequentialBytes) holds zeros. */
export async function measureSpeed(io: SpeedIo): Promise<Speed> {
  const block = io.buffer.subarray(io.chunkBytes, io.chunkBytes + RANDOM_BLOCK);
  for (let i = 0; i < block.length; i++) block[i] = (i * 131 + 7) & 0xff;
  const reads = await randomOps(io, io.goodBytes, 0x1234567, (at) => io.device.read(block, at));
  const writes = await randomOps(io, io.sequentialBytes, 0x7654321, (at) => io.device.write(block, at));
  await io.device.sync();
  const sequentialReadMBps = await sequential(io, (chunk, at) => io.device.read(chunk, at));
  io.buffer.subarray(0, io.chunkBytes).fill(0);
  const sequentialWriteMBps = await sequential(io, (chunk, at) => io.device.write(chunk, at), () => io.device.sync());
  const measured = { sequentialWriteMBps, sequentialReadMBps, randomWriteIops: writes.iops, randomReadIops: reads.iops };
  return { ...measured, sequentialBytes: io.sequentialBytes, randomOps: reads.ops + writes.ops, ...judgeSpeed(measured) };
}
