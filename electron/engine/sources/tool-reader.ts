/**
 * A compressed file decoded by a tool (`xz -dc -T0`) whose output is read straight into the
 * caller's buffers.
 *
 * xz writes its output 8 KiB per write(). Read as a Node stream, every one of those wakes the event
 * loop, so consuming `xz -dc -T0` took two to three times as long as `xz -dc -T0 >/dev/null`, most
 * of it in sleeping and waking the two processes, and `xz | dd` — the reference a flash is
 * measured against — pays the same (scripts/bench-sources.ts keeps the measurements). Here the
 * tool writes into a FIFO that this process reads without blocking: while the
 * tool keeps producing, the reader keeps reading (spinning briefly when the FIFO is momentarily
 * empty), so neither side sleeps per write; when the tool is slower than that (a large, dense
 * image on a slow machine) the reader waits in blocking reads on a worker thread instead,
 * costing nothing while it waits.
 *
 * Needs a FIFO (`mkfifo`, every Linux and macOS); `toolFileReader` returns null elsewhere and the
 * caller falls back to the stream.
 */
import { closeSync, constants, openSync, read as readCallback, readSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runTool, which } from '../tools';
import { openToolInput, startTool, type StreamCompression, type ToolProcess } from './decompress';
import { skipByReading, type PullReader } from './pull-reader';

const readAsync = promisify(readCallback);

/** How long the reader spins on an empty FIFO before it waits in a blocking read. */
const SPIN_NS = 50_000n;
/** Fruitless spins in a row after which a read call stops spinning. */
const MAX_FAILED_SPINS = 8;

interface Fifo {
  /** Read end opened O_NONBLOCK: EAGAIN when empty, 0 once the tool has closed its end. */
  readonly poll: number;
  /** Read end in blocking mode, for waiting on a worker thread. */
  readonly wait: number;
  /** Write end, the tool's stdout; closed here once the tool holds it. */
  readonly write: number;
}

/** A FIFO in a private temporary folder, opened from both ends; the name is gone once it returns. */
async function openFifo(): Promise<Fifo> {
  const dir = await mkdtemp(join(tmpdir(), 'cardsmith-fifo-'));
  try {
    const path = join(dir, 'decoded');
    await runTool('mkfifo', ['-m', '600', path]);
    // Order matters: a blocking open of one end waits for the other end to exist.
    const poll = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const write = openSync(path, constants.O_WRONLY);
    const wait = openSync(path, constants.O_RDONLY);
    return { poll, wait, write };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Decodes `path` with `tool args` into a FIFO; null where FIFOs are not available. */
export async function toolFileReader(format: StreamCompression, tool: string, args: readonly string[], path: string): Promise<PullReader | null> {
  if (process.platform === 'win32' || which('mkfifo') === null) return null;
  const fifo = await openFifo();
  const input = openToolInput(path);
  let running: ToolProcess;
  try {
    running = startTool(tool, args, input.fd, fifo.write);
  } finally {
    closeSync(fifo.write);
  }
  let ended = false;
  let closed = false;

  /** The tool's output is over: succeed only if the tool exited cleanly. */
  const end = async (): Promise<void> => {
    if (ended) return;
    ended = true;
    try {
      await running.exited;
    } catch (error) {
      throw input.failure(format, error);
    } finally {
      input.release();
    }
  };

  /** Bytes read into target at `offset`: 0 at the end of the output, null when the FIFO is empty. */
  const poll = (target: Uint8Array, offset: number): number | null => {
    // An empty FIFO is an exception from readSync, tens of thousands of times per image: without
    // a stack trace to capture, each costs about half as much.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return readSync(fifo.poll, target, offset, target.length - offset, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return null;
      throw error;
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  };

  const reader: PullReader = {
    async read(target) {
      let filled = 0;
      let emptySince: bigint | null = null;
      // A spin that finds nothing is followed by one blocking read, then spinning resumes: xz
      // pauses now and then between blocks. Spinning pays only while the tool outpaces this
      // reader, so after MAX_FAILED_SPINS fruitless spins in a row the rest of this read call
      // waits in blocking reads (at most MAX_FAILED_SPINS × SPIN_NS lost per call).
      let failedSpins = 0;
      while (filled < target.length && !ended) {
        let got = poll(target, filled);
        if (got === null) {
          const now = process.hrtime.bigint();
          emptySince ??= now;
          if (failedSpins < MAX_FAILED_SPINS && now - emptySince < SPIN_NS) continue;
          failedSpins++;
          got = (await readAsync(fifo.wait, target, filled, target.length - filled, null)).bytesRead;
        } else if (emptySince !== null) {
          failedSpins = 0;
        }
        emptySince = null;
        if (got === 0) await end();
        filled += got;
      }
      return filled;
    },
    skip: (length) => skipByReading(reader.read, length),
    async close() {
      if (closed) return;
      closed = true;
      ended = true;
      running.kill();
      await running.exited.catch(() => undefined);
      closeSync(fifo.poll);
      closeSync(fifo.wait);
      input.release();
    },
  };
  return reader;
}
