import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CardsmithError } from '../../../electron/engine/errors';
import { DownloadCache } from '../../../electron/engine/sources/cache';
import { openImage } from '../../../electron/engine/sources/open-image';
import { describeWith } from '../../helpers/needs';
import { startTestServer, type TestServer } from './test-server';

const FAST = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 };
const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

async function drain(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

describeWith(['tool:xz', 'tool:zstd', 'tool:bzip2', 'tool:gzip', 'tool:zip', 'tool:bmaptool'], 'openImage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-open-'));
  const image = Buffer.concat([randomBytes(400_000), Buffer.alloc(1 << 20), Buffer.from('x'.repeat(100_000))]);
  const imageSha = sha(image);
  const raw = join(dir, 'disk.img');
  let server: TestServer;
  const files: Record<string, string> = {};

  beforeAll(async () => {
    writeFileSync(raw, image);
    // Names without extensions: detection must be by content.
    for (const [format, tool, args] of [
      ['gz', 'gzip', ['-c']],
      ['xz', 'xz', ['-c', '-T1', '--block-size=262144']],
      ['zst', 'zstd', ['-c', '-q']],
      ['bz2', 'bzip2', ['-c']],
    ] as const) {
      files[format] = join(dir, `image-${format}.data`);
      writeFileSync(files[format], execFileSync(tool, [...args, raw], { maxBuffer: 64 << 20 }));
    }
    writeFileSync(`${raw}.bmap`, execFileSync('bmaptool', ['create', raw], { stdio: ['ignore', 'pipe', 'ignore'] }));
    execFileSync('zip', ['-q', '-j', join(dir, 'one.zip'), raw, `${raw}.bmap`]);
    copyFileSync(raw, join(dir, 'second.img'));
    execFileSync('zip', ['-q', '-j', join(dir, 'two.zip'), raw, join(dir, 'second.img')]);
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a raw image with its exact size and the sidecar bmap', async () => {
    const opened = await openImage(raw);
    expect(opened.info).toMatchObject({ compression: 'none', sizeBytes: image.length, sizeIsEstimate: false, hasBmap: true });
    expect(opened.bmap?.imageSize).toBe(image.length);
    expect(sha(await drain(opened.stream()))).toBe(imageSha);
  });

  for (const format of ['gz', 'xz', 'zst', 'bz2'] as const) {
    it(`detects and decodes ${format} by content`, async () => {
      const opened = await openImage(files[format]!, { expectedImageSha256: imageSha });
      expect(opened.info.compression).toBe(format);
      expect(sha(await drain(opened.stream()))).toBe(imageSha);
    });
  }

  it('knows sizes: exact from the xz index, estimated from gzip and zstd, unknown for bz2', async () => {
    expect((await openImage(files.xz!)).info).toMatchObject({ sizeBytes: image.length, sizeIsEstimate: false });
    expect((await openImage(files.gz!)).info).toMatchObject({ sizeBytes: image.length, sizeIsEstimate: true });
    expect((await openImage(files.zst!)).info).toMatchObject({ sizeBytes: image.length, sizeIsEstimate: true });
    expect((await openImage(files.bz2!)).info).toMatchObject({ sizeBytes: null, sizeIsEstimate: true });
  });

  it('finds the bmap build writes beside the image under either name: card.img.bmap or card.bmap', async () => {
    const sub = mkdtempSync(join(dir, 'named-'));
    const card = join(sub, 'card.img');
    copyFileSync(raw, card);
    expect((await openImage(card)).bmap).toBeNull();
    copyFileSync(`${raw}.bmap`, join(sub, 'card.bmap'));
    expect((await openImage(card)).bmap?.imageSize).toBe(image.length);
    writeFileSync(`${card}.xz`, execFileSync('xz', ['-c', '-T1', card], { maxBuffer: 64 << 20 }));
    expect((await openImage(`${card}.xz`)).info.hasBmap).toBe(true);
  });

  it('opens a zip holding one image and its bmap', async () => {
    const opened = await openImage(join(dir, 'one.zip'));
    expect(opened.info).toMatchObject({ compression: 'zip', sizeBytes: image.length, sizeIsEstimate: false, hasBmap: true });
    expect(opened.bmap?.imageSize).toBe(image.length);
    expect(sha(await drain(opened.stream()))).toBe(imageSha);
  });

  it('lists the images of a zip holding several, and opens the chosen one', async () => {
    const error = await openImage(join(dir, 'two.zip')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CardsmithError);
    expect((error as CardsmithError).info.details).toMatchObject({ images: ['disk.img', 'second.img'] });
    const chosen = await openImage(join(dir, 'two.zip'), { zipEntry: 'second.img' });
    expect(sha(await drain(chosen.stream()))).toBe(imageSha);
  });

  it('fails the stream when the decompressed image does not match its published sha256', async () => {
    const opened = await openImage(files.zst!, { expectedImageSha256: '0'.repeat(64) });
    const error = await drain(opened.stream()).catch((e: unknown) => e);
    expect((error as CardsmithError).info.cause).toBe('checksum-mismatch');
  });

  it('reports a truncated xz file as corrupt with an offset', async () => {
    const cut = join(dir, 'cut.data');
    const data = readFileSync(files.xz!);
    writeFileSync(cut, data.subarray(0, data.length >> 1));
    const opened = await openImage(cut);
    expect(opened.info.sizeBytes).toBeNull();
    const error = await drain(opened.stream()).catch((e: unknown) => e);
    expect((error as CardsmithError).info).toMatchObject({ cause: 'source-corrupt', details: { format: 'xz' } });
  });

  for (const format of ['gz', 'xz', 'zst', 'bz2', 'zip'] as const) {
    it(`streams ${format} from a URL while it downloads, then serves it from the cache`, async () => {
      const body = readFileSync(format === 'zip' ? join(dir, 'one.zip') : files[format]!);
      const url = server.add(`/${format}-image`, body);
      const cache = new DownloadCache({ root: join(dir, `cache-${format}`) });
      const opened = await openImage(url, { cache, retry: FAST, expectedSha256: sha(body) });
      expect(opened.info.compression).toBe(format);
      expect(sha(await drain(opened.stream()))).toBe(imageSha);
      const before = server.log.length;
      const again = await openImage(url, { cache, retry: FAST, expectedSha256: sha(body) });
      expect(sha(await drain(again.stream()))).toBe(imageSha);
      expect(server.log.length).toBe(before);
    });
  }

  it('fails a URL stream whose download does not match its sha256, even after every byte was passed on', async () => {
    // Raw bytes: the decoder cannot notice the flipped byte, only the download hash can.
    const url = server.add('/bad-raw', image, { kind: 'wrong' });
    const cache = new DownloadCache({ root: join(dir, 'cache-bad') });
    const opened = await openImage(url, { cache, retry: FAST, expectedSha256: imageSha });
    const error = await drain(opened.stream()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CardsmithError);
    expect((error as CardsmithError).info).toMatchObject({ cause: 'checksum-mismatch', details: { expected: imageSha } });
    expect(await cache.get(imageSha)).toBeNull();
  });

  it('resolves catalog ids and rejects unknown references', async () => {
    const opened = await openImage('my-image', {
      findCatalogEntry: async (id) =>
        id === 'my-image' ? { id, name: 'x', description: '', kind: 'image', boards: [], url: files.xz!, extractSha256: imageSha, cached: false } : null,
    });
    expect(sha(await drain(opened.stream()))).toBe(imageSha);
    const error = await openImage('no-such-thing').catch((e: unknown) => e);
    expect((error as CardsmithError).info.cause).toBe('bad-input');
  });
});
