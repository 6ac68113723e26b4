/**
 * Flash and verify from http(s) through the same streaming interface as local files: every
 * compressed format is served by a real HTTP server on 127.0.0.1 and written to a real loop device
 * while it downloads; the card's bytes must equal the image, and a later standalone verify from the
 * same URL must agree.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JobEvent, RequestInput } from '../../../electron/engine/api';
import { runRequest } from '../../../electron/engine/operations';
import { readBytesAt } from '../../helpers/bytes';
import { attachLoop, createSparseFile, detachLoop } from '../../helpers/loop';
import { FUSE_CARD_NEEDS, withFuseCard } from '../../helpers/fuse-card';
import { describeWith } from '../../helpers/needs';
import { startTestServer, type TestServer } from '../sources/test-server';

const MiB = 1 << 20;
const IMAGE_BYTES = 12 * MiB;

async function run(request: RequestInput): Promise<{ result: unknown; events: JobEvent[] }> {
  const events: JobEvent[] = [];
  const result = await runRequest(request, (event) => events.push(event));
  return { result, events };
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describeWith(['root', 'tool:losetup', 'tool:gzip', 'tool:xz', 'tool:zstd', 'tool:bzip2', 'tool:zip'], 'flash and verify from a URL', () => {
  let dir: string;
  let server: TestServer;
  let image: Buffer;
  const files = new Map<string, string>();
  const savedCache = process.env.CARDSMITH_CACHE;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cardsmith-url-flash-'));
    process.env.CARDSMITH_CACHE = join(dir, 'cache');
    // Half random, half zeros: compressible like a real image, and misplaced bytes would show.
    image = Buffer.concat([randomBytes(IMAGE_BYTES / 2), Buffer.alloc(IMAGE_BYTES / 2)]);
    const raw = join(dir, 'card.img');
    writeFileSync(raw, image);
    execFileSync('gzip', ['-k', raw]);
    execFileSync('xz', ['-k', '-T0', raw]);
    execFileSync('zstd', ['-q', '-k', raw]);
    execFileSync('bzip2', ['-k', raw]);
    execFileSync('zip', ['-q', '-j', join(dir, 'card.img.zip'), raw]);
    server = await startTestServer();
    for (const suffix of ['', '.gz', '.xz', '.zst', '.bz2', '.zip']) {
      files.set(suffix || 'raw', server.add(`/card.img${suffix}`, readFileSync(`${raw}${suffix}`)));
    }
  });

  afterAll(async () => {
    await server?.close();
    if (savedCache === undefined) delete process.env.CARDSMITH_CACHE;
    else process.env.CARDSMITH_CACHE = savedCache;
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['raw', '.gz', '.xz', '.zst', '.bz2', '.zip'])('%s: the card holds the image, and verify from the URL agrees', async (format) => {
    const url = files.get(format)!;
    const backing = join(dir, `card-${format}.bin`);
    createSparseFile(backing, 32 * MiB);
    const device = attachLoop(backing);
    try {
      const flashed = await run({ op: 'flash', source: url, device, allowLoop: true, verify: true });
      expect(flashed.events.find((e) => e.type === 'error')).toBeUndefined();
      expect(flashed.result).toMatchObject({ device, verified: true });
      expect(sha256(readBytesAt(device, 0, IMAGE_BYTES))).toBe(sha256(image));
      const verified = await run({ op: 'verify', source: url, device, allowLoop: true });
      expect(verified.result).toMatchObject({ ok: true, mismatches: [] });
    } finally {
      detachLoop(device);
    }
  });

  it('flash + verify downloads the URL once; flashing it again revalidates (304) and reads the cache', async () => {
    const url = server.add('/again.img', image);
    const path = new URL(url).pathname;
    const backing = join(dir, 'card-again.bin');
    createSparseFile(backing, 32 * MiB);
    const device = attachLoop(backing);
    try {
      const first = await run({ op: 'flash', source: url, device, allowLoop: true, verify: true });
      expect(first.result).toMatchObject({ verified: true });
      expect(server.log.filter((r) => r.path === path).map((r) => r.status)).toEqual([200]);
      writeFileSync(backing, Buffer.alloc(IMAGE_BYTES, 0x77), { flag: 'r+' });
      execFileSync('blockdev', ['--flushbufs', device]);
      const second = await run({ op: 'flash', source: url, device, allowLoop: true, verify: true });
      expect(second.result).toMatchObject({ verified: true });
      expect(server.log.filter((r) => r.path === path).map((r) => r.status)).toEqual([200, 304]);
      expect(sha256(readBytesAt(device, 0, IMAGE_BYTES))).toBe(sha256(image));
      // A changed file (new ETag) is downloaded again, not served stale from the cache.
      const changed = Buffer.from(image);
      changed[IMAGE_BYTES - 1] = 0x42;
      server.add('/again.img', changed);
      expect((await run({ op: 'flash', source: url, device, allowLoop: true, verify: true })).result).toMatchObject({ verified: true });
      expect(server.log.filter((r) => r.path === path).map((r) => r.status)).toEqual([200, 304, 200]);
      expect(readBytesAt(device, IMAGE_BYTES - 1, 1)[0]).toBe(0x42);
    } finally {
      detachLoop(device);
    }
  });
});

describeWith([...FUSE_CARD_NEEDS, 'tool:xz'], 'slow mirrors and slow cards', () => {
  it('streams an .xz from a rate-limited server onto a throttled card, fetched once, and the card holds the image', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardsmith-slow-'));
    const savedCache = process.env.CARDSMITH_CACHE;
    process.env.CARDSMITH_CACHE = join(dir, 'cache');
    const server = await startTestServer({ bytesPerSecond: 8 * MiB });
    try {
      const image = Buffer.concat([randomBytes(3 * MiB), Buffer.alloc(3 * MiB)]);
      writeFileSync(join(dir, 'slow.img'), image);
      execFileSync('xz', ['-0', '-k', join(dir, 'slow.img')]);
      const url = server.add('/slow.img.xz', readFileSync(join(dir, 'slow.img.xz')));
      const card = { sizeBytes: 16 * MiB, keepsData: true, writeBytesPerSecond: 20 * MiB, readBytesPerSecond: 40 * MiB, latencyMicroseconds: 500 };
      await withFuseCard(card, async (device) => {
        const flashed = await run({ op: 'flash', source: url, device, allowLoop: true, verify: true });
        expect(flashed.events.find((e) => e.type === 'error')).toBeUndefined();
        expect(flashed.result).toMatchObject({ verified: true, bytesWritten: image.length });
        expect(server.log.map((r) => r.status)).toEqual([200]);
        expect(sha256(readBytesAt(device, 0, image.length))).toBe(sha256(image));
      });
    } finally {
      await server.close();
      if (savedCache === undefined) delete process.env.CARDSMITH_CACHE;
      else process.env.CARDSMITH_CACHE = savedCache;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const limits = (events: JobEvent[]): string[] =>
    events.flatMap((e) => (e.type === 'progress' && e.phase === 'write' && e.limitedBy ? [e.limitedBy] : []));

  it('progress names the card as the limit when the card is slower than the source', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardsmith-limit-card-'));
    try {
      // 32 MiB: well past the 12 MiB of writes in flight, so the writer waits on the card for seconds.
      writeFileSync(join(dir, 'random.img'), randomBytes(32 * MiB));
      await withFuseCard({ sizeBytes: 48 * MiB, keepsData: true, writeBytesPerSecond: 8 * MiB }, async (device) => {
        const { events } = await run({ op: 'flash', source: join(dir, 'random.img'), device, allowLoop: true, verify: false });
        expect(limits(events).at(-1)).toBe('card');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('progress names the source as the limit when the download is slower than the card', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardsmith-limit-source-'));
    const savedCache = process.env.CARDSMITH_CACHE;
    process.env.CARDSMITH_CACHE = join(dir, 'cache');
    const server = await startTestServer({ bytesPerSecond: 3 * MiB });
    try {
      const url = server.add('/random.img', randomBytes(8 * MiB));
      createSparseFile(join(dir, 'card.bin'), 16 * MiB);
      const device = attachLoop(join(dir, 'card.bin'));
      try {
        const { events } = await run({ op: 'flash', source: url, device, allowLoop: true, verify: false });
        expect(limits(events).at(-1)).toBe('source');
      } finally {
        detachLoop(device);
      }
    } finally {
      await server.close();
      if (savedCache === undefined) delete process.env.CARDSMITH_CACHE;
      else process.env.CARDSMITH_CACHE = savedCache;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
