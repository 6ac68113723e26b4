/**
 * The readers that decode a local file straight into the caller's buffers: zstd through the
 * native zlib handle, xz and bzip2 through their tools and a FIFO. Each must give exactly the
 * image, whatever the read sizes, and fail as source-corrupt with an offset on damaged input.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CardsmithError } from '../../../electron/engine/errors';
import { hasZlibZstd } from '../../../electron/engine/sources/decompress';
import type { PullReader } from '../../../electron/engine/sources/pull-reader';
import { toolFileReader } from '../../../electron/engine/sources/tool-reader';
import { hasDirectZstd, zstdFileReader } from '../../../electron/engine/sources/zstd-reader';
import { describeWith } from '../../helpers/needs';

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Incompressible, zero and text stretches, 3 MiB + a ragged end. */
const image = Buffer.concat([
  randomBytes(1 << 20),
  Buffer.alloc(1 << 20),
  Buffer.from(Array.from({ length: 90_000 }, (_, i) => `line ${i}\n`).join('')),
  randomBytes(12_345),
]);

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cardsmith-pull-'));
  writeFileSync(join(work, 'image.img'), image);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Reads everything with reads of varying, odd sizes, skipping `skip` bytes first. */
async function readAll(reader: PullReader, skip = 0): Promise<Buffer> {
  const parts: Buffer[] = [];
  expect(await reader.skip(skip)).toBe(Math.min(skip, image.length));
  const sizes = [7, 65_536, 1 << 20, 4093, 3 << 20];
  for (let i = 0; ; i++) {
    const target = Buffer.alloc(sizes[i % sizes.length] as number);
    const got = await reader.read(target);
    parts.push(target.subarray(0, got));
    if (got < target.length) break;
  }
  expect(await reader.read(Buffer.alloc(16))).toBe(0);
  await reader.close();
  return Buffer.concat(parts);
}

async function failure(open: () => Promise<PullReader | null>): Promise<CardsmithError> {
  const reader = (await open()) as PullReader;
  try {
    await readAll(reader);
  } catch (error) {
    await reader.close();
    return error as CardsmithError;
  }
  throw new Error('the damaged file decoded without an error');
}

function compressed(name: string, tool: string, args: string[]): string {
  const path = join(work, name);
  writeFileSync(path, execFileSync(tool, args, { input: image, maxBuffer: 64 << 20 }));
  return path;
}

function damaged(path: string, name: string, change: (bytes: Buffer) => Buffer): string {
  const out = join(work, name);
  writeFileSync(out, change(Buffer.from(readFileSync(path))));
  return out;
}

// The zst fast path reaches into zlib's private handle, so a Node upgrade could drop it to the
// slow path unnoticed. The test below pins it; this makes sure it runs on the Node the app ships.
describe('the Node these tests run on', () => {
  const majorOf = (version: string): number => Number(/\d+/.exec(version)?.[0]);
  const pkg = (path: string): { dependencies?: Record<string, string>; devDependencies?: Record<string, string> } =>
    JSON.parse(readFileSync(join(__dirname, '..', '..', '..', path), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };

  it('is the major Electron embeds and the one package.json pins', () => {
    // Electron's own package depends on the @types/node of the Node it embeds.
    const electronNode = majorOf(pkg('node_modules/electron/package.json').dependencies?.['@types/node'] ?? '');
    const pinned = majorOf(pkg('package.json').devDependencies?.node ?? '');
    expect(electronNode).toBeGreaterThanOrEqual(22);
    expect(pinned).toBe(electronNode);
    expect(majorOf(process.versions.node)).toBe(pinned);
  });
});

describeWith(['tool:zstd'], 'zstdFileReader', () => {
  it('is available wherever node:zlib decodes zstd, so the fast path is never lost silently', () => {
    expect(hasDirectZstd()).toBe(hasZlibZstd());
    // The Node this project pins (package.json devDependencies "node") has node:zlib zstd.
    expect(hasZlibZstd()).toBe(true);
  });

  it('decodes a multi-frame file into reads of any size, and skips', async () => {
    const half = image.length >> 1;
    const path = join(work, 'frames.zst');
    const frame = (part: Buffer, level: string): Buffer => execFileSync('zstd', ['-q', '-c', level], { input: part, maxBuffer: 64 << 20 });
    writeFileSync(path, Buffer.concat([frame(image.subarray(0, half), '-3'), frame(image.subarray(half), '-9')]));
    expect(sha(await readAll((await zstdFileReader(path)) as PullReader))).toBe(sha(image));
    expect(sha(await readAll((await zstdFileReader(path)) as PullReader, 1_500_000))).toBe(sha(image.subarray(1_500_000)));
  });

  it('refuses a truncated file, naming an offset within it', async () => {
    const path = compressed('whole.zst', 'zstd', ['-q', '-c']);
    const size = readFileSync(path).length;
    const cut = damaged(path, 'cut.zst', (bytes) => bytes.subarray(0, size - 1000));
    const error = await failure(() => zstdFileReader(cut));
    expect(error).toBeInstanceOf(CardsmithError);
    expect(error.info).toMatchObject({ cause: 'source-corrupt', details: { format: 'zst', offset: size - 1000 } });
    expect(error.message).toMatch(/input ended early/);
  });

  it('refuses damaged data and trailing garbage', async () => {
    const path = compressed('whole2.zst', 'zstd', ['-q', '-c', '--check']);
    const flipped = damaged(path, 'flipped.zst', (bytes) => {
      bytes.writeUInt8(bytes.readUInt8(bytes.length >> 1) ^ 0xff, bytes.length >> 1);
      return bytes;
    });
    const error = await failure(() => zstdFileReader(flipped));
    expect(error.info.cause).toBe('source-corrupt');
    expect((error.info.details as { offset: number }).offset).toBeLessThanOrEqual(readFileSync(path).length);
    const trailing = damaged(path, 'trailing.zst', (bytes) => Buffer.concat([bytes, Buffer.from('not a frame at all')]));
    expect((await failure(() => zstdFileReader(trailing))).info.cause).toBe('source-corrupt');
  });
});

const fifoTempDirs = (): string[] => readdirSync(tmpdir()).filter((name) => name.startsWith('cardsmith-fifo-'));

for (const [format, tool, args] of [
  ['xz', 'xz', ['-dc', '-T0']],
  ['bz2', 'bzip2', ['-dc']],
] as const) {
  describeWith([`tool:${tool}`, 'tool:mkfifo'], `toolFileReader (${tool})`, () => {
    const open = (path: string): Promise<PullReader | null> => toolFileReader(format, tool, args, path);

    it('decodes into reads of any size, and skips', async () => {
      const path = compressed(`image.${format}`, tool, ['-c']);
      expect(sha(await readAll((await open(path)) as PullReader))).toBe(sha(image));
      expect(sha(await readAll((await open(path)) as PullReader, 2_222_222))).toBe(sha(image.subarray(2_222_222)));
      expect(fifoTempDirs()).toEqual([]);
    });

    it('refuses a truncated file as source-corrupt with an offset within it', async () => {
      const path = compressed(`whole.${format}`, tool, ['-c']);
      const size = readFileSync(path).length;
      const cut = damaged(path, `cut.${format}`, (bytes) => bytes.subarray(0, size - 100));
      const error = await failure(() => open(cut));
      expect(error.info).toMatchObject({ cause: 'source-corrupt', details: { format } });
      expect((error.info.details as { offset: number }).offset).toBeLessThanOrEqual(size - 100);
    });

    it('stops the tool when closed before the end', async () => {
      const big = join(work, `big.${format}`);
      writeFileSync(big, execFileSync(tool, ['-c', '-1'], { input: Buffer.concat(Array.from({ length: 3 }, () => image)), maxBuffer: 64 << 20 }));
      const reader = (await open(big)) as PullReader;
      expect(await reader.read(Buffer.alloc(100_000))).toBe(100_000);
      const started = performance.now();
      await reader.close();
      expect(performance.now() - started).toBeLessThan(1000);
      expect(execFileSync('ps', ['-o', 'args=', '--ppid', String(process.pid)], { encoding: 'utf8' })).not.toMatch(new RegExp(`${tool} ${args[0]}`));
    });
  });
}
