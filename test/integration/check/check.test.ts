/**
 * The card check on real loop devices: a fake-capacity card that wraps around (claims 1 GiB,
 * holds 96 MiB), one that loses writes past its real size, one returning wrong data past an
 * offset (FUSE cards, fuse-fake.c) and a good RAM-backed card. Debian's f3probe runs on the same
 * devices as a second opinion; Cardsmith must be at least as right. Then the flash refusal, the
 * CLI and the privileged worker's card-job path.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Envelope, JobEvent, ResultOf } from '../../../electron/engine/api';
import { PROBE_BLOCK } from '../../../electron/engine/check/blocks';
import { probeLayout } from '../../../electron/engine/check/probe';
import type { ErrorInfo } from '../../../electron/engine/errors';
import { runRequest } from '../../../electron/engine/operations';
import { withLoopDevice } from '../../helpers/loop';
import { describeWith } from '../../helpers/needs';
import { WorkerProcess } from '../../helpers/worker-process';
import { FUSE_CARD_NEEDS } from '../../helpers/fuse-card';
import { withFakeCard } from './fake-card';

const MiB = 1 << 20;
const root = join(__dirname, '..', '..', '..');
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cardsmith-check-'));
  process.env.CARDSMITH_LOG_DIR = join(work, 'logs');
  process.env.CARDSMITH_CACHE = join(work, 'cache');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Check = ResultOf<'check'>;

async function check(device: string, speed = true): Promise<{ result: Check; events: JobEvent[] }> {
  const events: JobEvent[] = [];
  const result = await runRequest<'check'>({ op: 'check', device, allowLoop: true, speed }, (e) => events.push(e));
  const failure = events.find((e) => e.type === 'error');
  if (!result) throw new Error(`check failed: ${JSON.stringify(failure)}`);
  return { result, events };
}

interface F3Opinion {
  readonly output: string;
  /** f3probe's "usable size" in bytes, or null when it printed none. */
  readonly usableBytes: number | null;
  readonly kind: 'good' | 'damaged' | 'limbo' | 'wraparound' | 'chain' | 'unknown';
}

/** Debian's f3probe on the same device (destructive, like the check). */
function f3probe(device: string): F3Opinion {
  const run = spawnSync('f3probe', ['--destructive', '--time-ops', device], { encoding: 'utf8' });
  const output = `${run.stdout}${run.stderr}`;
  const usable = /\*Usable\* size:[^(]*\((\d+) blocks\)/.exec(output);
  const kind = /Good news/.test(output) ? 'good' : /damaged/i.test(output) ? 'damaged' : /limbo/i.test(output) ? 'limbo' : /wraparound/i.test(output) ? 'wraparound' : /chain/i.test(output) ? 'chain' : 'unknown';
  return { output, usableBytes: usable ? Number(usable[1]) * 512 : null, kind };
}

/** True when every byte the probe wrote reads back as zero. */
function probedBlocksZeroed(device: string, claimedBytes: number): boolean {
  const layout = probeLayout(claimedBytes);
  const fd = openSync(device, 'r');
  try {
    const dense = Buffer.alloc(layout.denseBytes);
    readSync(fd, dense, 0, dense.length, 0);
    const block = Buffer.alloc(PROBE_BLOCK);
    return dense.every((b) => b === 0) && layout.grid.every((at) => (readSync(fd, block, 0, PROBE_BLOCK, at), block.every((b) => b === 0)));
  } finally {
    closeSync(fd);
  }
}

describeWith([...FUSE_CARD_NEEDS, 'tool:f3probe'], 'checking fake and failing cards', () => {
  it('finds the real size of a wrap-around card exactly, where f3probe sees no usable bytes, and a flash onto it is refused', async () => {
    const claimed = 1024 * MiB;
    const real = 96 * MiB;
    await withFakeCard('wrap', claimed, real, async (device) => {
      const { result, events } = await check(device);
      expect(result).toMatchObject({ verdict: 'fake-capacity', capacity: { claimedBytes: claimed, failures: ['wrap-around'] } });
      expect(Math.abs(result.capacity.realBytes - real)).toBeLessThan(result.capacity.resolutionBytes);
      expect(result.summary).toMatch(/wrap around/);
      expect(result.speed?.sequentialBytes).toBe(16 * MiB);
      expect(events.some((e) => e.type === 'progress' && e.phase === 'probe' && e.etaSeconds !== null)).toBe(true);
      expect(probedBlocksZeroed(device, claimed)).toBe(true);
      const last = await runRequest<'lastCheck'>({ op: 'lastCheck', device }, () => undefined);
      expect(last?.check).toMatchObject({ verdict: 'fake-capacity', identity: result.identity, capacity: { realBytes: result.capacity.realBytes } });

      const f3 = f3probe(device);
      console.info(`f3probe on the wrap-around card (real ${real}): ${f3.kind}, usable ${f3.usableBytes}\n${f3.output}`);
      // f3probe 8.0 assumes the wrap is at a power of two; at 96 MiB it finds none and gives up on the card.
      expect(f3.usableBytes ?? 0).toBeLessThan(result.capacity.realBytes);

      const image = join(work, 'big.img');
      writeFileSync(image, Buffer.alloc(128 * MiB, 1));
      const events2: JobEvent[] = [];
      await runRequest({ op: 'flash', source: image, device, allowLoop: true }, (e) => events2.push(e));
      const error = (events2.find((e) => e.type === 'error') as { error: ErrorInfo } | undefined)?.error;
      expect(error).toMatchObject({ cause: 'too-small', details: { realBytes: result.capacity.realBytes, verdict: 'fake-capacity' } });
      expect(error?.message).toMatch(/found only \d+ real bytes/);
      const small = join(work, 'small.img');
      writeFileSync(small, Buffer.alloc(8 * MiB, 2));
      const fits = await runRequest<'flash'>({ op: 'flash', source: small, device, allowLoop: true }, () => undefined);
      expect(fits).toMatchObject({ verified: true });
    });
  });

  it('finds where a card that loses writes stops holding data', async () => {
    const real = 100 * MiB + 3 * PROBE_BLOCK;
    await withFakeCard('lost', 512 * MiB, real, async (device) => {
      const { result } = await check(device, false);
      expect(result).toMatchObject({ verdict: 'fake-capacity', capacity: { failures: ['lost-writes'], realBytes: real } });
      expect(result.speed).toBeUndefined();
      expect(probedBlocksZeroed(device, 512 * MiB)).toBe(true);
      // f3probe calls this kind "limbo" and finds the same edge.
      expect(f3probe(device)).toMatchObject({ kind: 'limbo', usableBytes: real });
    });
  });

  it('zeroes the blocks it wrote when cancelled mid-probe', async () => {
    await withFakeCard('wrap', 1024 * MiB, 96 * MiB, async (device) => {
      const controller = new AbortController();
      const events: JobEvent[] = [];
      const result = await runRequest(
        { op: 'check', device, allowLoop: true },
        (e) => {
          events.push(e);
          if (e.type === 'progress' && e.phase === 'probe' && e.bytesDone > 0) controller.abort();
        },
        controller.signal,
      );
      expect(result).toBeUndefined();
      expect(events.at(-1)).toMatchObject({ type: 'error', error: { cause: 'cancelled' } });
      expect(probedBlocksZeroed(device, 1024 * MiB)).toBe(true);
    });
  });

  it('calls a card returning wrong data past an offset failing, with the offset', async () => {
    const badFrom = 150 * MiB + 2 * PROBE_BLOCK + 1000;
    await withFakeCard('corrupt', 256 * MiB, badFrom, async (device) => {
      const { result } = await check(device);
      expect(result).toMatchObject({ verdict: 'failing', capacity: { failures: ['corrupt-data'] } });
      expect(Math.abs(result.capacity.realBytes - badFrom)).toBeLessThan(result.capacity.resolutionBytes);
      expect(result.capacity.badBlocks[0]).toMatchObject({ kind: 'corrupt-data' });
      expect(result.capacity.badBlocks[0]?.offset).toBe(result.capacity.realBytes);
      const f3 = f3probe(device);
      console.info(`f3probe on the wrong-data card (bad from ${badFrom}): ${f3.kind}, usable ${f3.usableBytes}\n${f3.output}`);
      // f3probe bisects to a power of two and calls it limbo: it never says more than the good bytes the card has.
      expect(f3.usableBytes ?? 0).toBeLessThanOrEqual(result.capacity.realBytes);
    });
  });

  it('calls a good RAM-backed card good, and f3probe agrees', async () => {
    await withLoopDevice({ sizeBytes: 256 * MiB, ram: true }, async (loop) => {
      const { result } = await check(loop.device);
      expect(result).toMatchObject({ verdict: 'good', capacity: { realBytes: 256 * MiB, failures: [], badBlockCount: 0 }, identity: { kind: 'loop' } });
      expect(result.speed?.sequentialWriteMBps).toBeGreaterThan(0);
      // The speed region and every probe block are zeros again: the whole card reads as zeros.
      const fd = openSync(loop.backingFile, 'r');
      const chunk = Buffer.alloc(16 * MiB);
      let zero = true;
      for (let at = 0; at < 256 * MiB && zero; at += chunk.length) zero = readSync(fd, chunk, 0, chunk.length, at) === chunk.length && chunk.every((b) => b === 0);
      closeSync(fd);
      expect(zero).toBe(true);
      const f3 = f3probe(loop.device);
      expect(f3.kind).toBe('good');
    });
  });
});

describeWith(['root', 'tool:losetup'], 'cardsmith check from the CLI and through the privileged worker', () => {
  beforeAll(() => execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), 'cli'], { cwd: root }));

  it('asks without --yes, prints NDJSON ending in the result with --json, and exits 0 for a good card', async () => {
    await withLoopDevice({ sizeBytes: 64 * MiB, ram: true }, async (loop) => {
      const fd = openSync(loop.device, 'r+');
      readSync(fd, Buffer.alloc(1), 0, 1, 0);
      closeSync(fd);
      writeFileSync(loop.backingFile, Buffer.alloc(MiB, 0x5a), { flag: 'r+' });
      const cli = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin/cardsmith.cjs'), ...args], { encoding: 'utf8', input: '' });
      const asked = cli(['check', '--device', loop.device, '--allow-loop']);
      expect(asked.status).toBe(2);
      expect(asked.stderr).toMatch(/Not confirmed; nothing was written/);
      const untouched = Buffer.alloc(16);
      const before = openSync(loop.backingFile, 'r');
      readSync(before, untouched, 0, 16, 0);
      closeSync(before);
      expect(untouched.every((b) => b === 0x5a)).toBe(true);

      expect(await runRequest<'lastCheck'>({ op: 'lastCheck', device: loop.device }, () => undefined)).toEqual({ check: null });
      const out = cli(['check', '--device', loop.device, '--allow-loop', '--yes', '--json']);
      expect(out.status).toBe(0);
      const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as JobEvent);
      expect(lines.at(-1)).toMatchObject({ type: 'result', op: 'check', result: { verdict: 'good', capacity: { realBytes: 64 * MiB } } });
      expect(lines.some((l) => l.type === 'progress' && l.phase === 'speed')).toBe(true);
    });
  });

  it('runs as a card job on the card the worker opened', async () => {
    await withLoopDevice({ sizeBytes: 64 * MiB, ram: true }, async (loop) => {
      const worker = new WorkerProcess({ args: ['--allow-loop'], env: { CARDSMITH_LOG_DIR: join(work, 'logs'), CARDSMITH_CACHE: join(work, 'worker-cache') } });
      worker.send({ cmd: 'start', job: 'k', request: { op: 'check', device: loop.device, allowLoop: true } });
      const done = await worker.until((e: Envelope) => e.job === 'k' && (e.event.type === 'result' || e.event.type === 'error'));
      expect(done.event).toMatchObject({ type: 'result', op: 'check', result: { verdict: 'good', capacity: { realBytes: 64 * MiB } } });
      worker.end();
      expect(await worker.exited).toBe(0);
    });
  });
});
