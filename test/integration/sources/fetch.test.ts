import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CardsmithError } from '../../../electron/engine/errors';
import { DownloadCache, urlKey } from '../../../electron/engine/sources/cache';
import { download } from '../../../electron/engine/sources/fetch';
import { startTestServer, type TestServer } from './test-server';

const FAST = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 };
const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const body = randomBytes(3 * 1024 * 1024 + 123);
const bodySha = sha(body);

let server: TestServer;
let root: string;
let cache: DownloadCache;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'cardsmith-cache-'));
  cache = new DownloadCache({ root });
  return () => rmSync(root, { recursive: true, force: true });
});

async function collect(stream: PassThrough): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

describe('download', () => {
  it('downloads, checks the sha256 and stores the file under its hash', async () => {
    const url = server.add('/ok.img', body);
    const object = await download(url, { cache, expectedSha256: bodySha, retry: FAST });
    expect(object.sha256).toBe(bodySha);
    expect(object.verified).toBe(true);
    expect(object.path).toBe(join(root, 'objects', bodySha));
    expect(sha(readFileSync(object.path))).toBe(bodySha);
    expect(readdirSync(join(root, 'partial'))).toEqual([]);
  });

  it('resumes with a Range request after the connection drops mid-body', async () => {
    const url = server.add('/drop.img', body, { kind: 'drop', afterBytes: 1_000_000, times: 2 });
    const tee = new PassThrough();
    const [object, streamed] = await Promise.all([download(url, { cache, expectedSha256: bodySha, retry: FAST, tee }), collect(tee)]);
    expect(object.sha256).toBe(bodySha);
    expect(sha(streamed)).toBe(bodySha);
    const requests = server.log.filter((entry) => entry.path === '/drop.img');
    expect(requests.map((entry) => entry.range)).toEqual([undefined, 'bytes=1000000-', 'bytes=2000000-']);
    expect(requests.map((entry) => entry.status)).toEqual([200, 206, 206]);
  });

  it('resumes after a restart from the partial file in the cache', async () => {
    const url = server.add('/restart.img', body);
    const paths = cache.partialPaths(url);
    await cache.ensure();
    writeFileSync(paths.data, body.subarray(0, 1_234_567));
    await cache.writePartialMeta({ url, validator: '"v1"', expectedSha256: bodySha });
    const tee = new PassThrough();
    const [object, streamed] = await Promise.all([download(url, { cache, expectedSha256: bodySha, retry: FAST, tee }), collect(tee)]);
    expect(object.sha256).toBe(bodySha);
    expect(sha(streamed)).toBe(bodySha);
    expect(server.log.filter((entry) => entry.path === '/restart.img').map((entry) => entry.range)).toEqual(['bytes=1234567-']);
  });

  it('restarts cleanly when the server ignores Range', async () => {
    const url = server.add('/norange.img', body, { kind: 'no-range' });
    await cache.ensure();
    writeFileSync(cache.partialPaths(url).data, body.subarray(0, 777));
    await cache.writePartialMeta({ url, validator: null, expectedSha256: bodySha });
    const object = await download(url, { cache, expectedSha256: bodySha, retry: FAST });
    expect(sha(readFileSync(object.path))).toBe(bodySha);
  });

  it('retries a 500 and then succeeds', async () => {
    const url = server.add('/flaky.img', body, { kind: 'fail', status: 500, times: 2 });
    const object = await download(url, { cache, expectedSha256: bodySha, retry: FAST });
    expect(object.sha256).toBe(bodySha);
    expect(server.log.filter((entry) => entry.path === '/flaky.img').map((entry) => entry.status)).toEqual([500, 500, 200]);
  });

  it('gives up on a server that keeps failing, with a clear message', async () => {
    const url = server.add('/down.img', body, { kind: 'fail', status: 503, times: 100 });
    const error = await download(url, { cache, retry: FAST }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CardsmithError);
    expect((error as CardsmithError).info).toMatchObject({ cause: 'network', details: { attempts: 3 } });
    expect((error as CardsmithError).message).toMatch(/HTTP 503/);
  });

  it('fails at once on 404', async () => {
    const error = await download(`${server.base}/missing.img`, { cache, retry: FAST }).catch((e: unknown) => e);
    expect((error as CardsmithError).info.cause).toBe('network');
    expect((error as CardsmithError).message).toMatch(/not found.*404/);
    expect(server.log.filter((entry) => entry.path === '/missing.img')).toHaveLength(1);
  });

  it('a full disk under the cache is no-space at once, not a network failure retried', async () => {
    const url = server.add('/full-disk.img', body);
    await cache.ensure();
    // /dev/full answers every write with ENOSPC: the partial download lands on a full disk.
    symlinkSync('/dev/full', cache.partialPaths(url).data);
    const error = await download(url, { cache, expectedSha256: bodySha, retry: FAST }).catch((e: unknown) => e);
    expect((error as CardsmithError).info).toMatchObject({ cause: 'no-space', details: { code: 'ENOSPC', path: cache.partialPaths(url).data } });
    expect(server.log.filter((entry) => entry.path === '/full-disk.img')).toHaveLength(1);
  });

  it('quarantines wrong bytes, never caches them, and fails the tee', async () => {
    const url = server.add('/wrong.img', body, { kind: 'wrong' });
    const tee = new PassThrough();
    const streamed = collect(tee).catch((e: unknown) => e);
    const error = await download(url, { cache, expectedSha256: bodySha, retry: FAST, tee }).catch((e: unknown) => e);
    expect((error as CardsmithError).info).toMatchObject({ cause: 'checksum-mismatch', details: { expected: bodySha } });
    expect(await streamed).toBeInstanceOf(CardsmithError);
    expect(readdirSync(join(root, 'objects'))).toEqual([]);
    expect(readdirSync(join(root, 'quarantine'))).toHaveLength(1);
    expect(await cache.get(bodySha)).toBeNull();
  });

  it('serves a cached object without the network, by hash or by URL', async () => {
    const url = server.add('/offline.img', body);
    await download(url, { cache, retry: FAST });
    const before = server.log.length;
    const byHash = await download(`${server.base}/gone-now.img`, { cache, expectedSha256: bodySha, retry: FAST });
    expect(byHash.sha256).toBe(bodySha);
    expect(server.log.length).toBe(before);
    const offlineServer = await startTestServer();
    const deadUrl = offlineServer.add('/x.img', body);
    await offlineServer.close();
    // Same URL key as a URL fetched earlier: pretend the earlier fetch was of deadUrl.
    writeFileSync(join(root, 'urls', `${urlKey(deadUrl)}.json`), JSON.stringify({ url: deadUrl, sha256: bodySha }));
    const offline = await download(deadUrl, { cache, retry: FAST });
    expect(offline.sha256).toBe(bodySha);
  });

  it('evicts the least recently used objects beyond the size limit', async () => {
    let clock = 1;
    const small = new DownloadCache({ root, limitBytes: 2_500_000, now: () => clock++ });
    const blobs = [randomBytes(1_000_000), randomBytes(1_000_000), randomBytes(1_000_000)];
    const urls = blobs.map((blob, index) => server.add(`/lru${index}.bin`, blob));
    await download(urls[0]!, { cache: small, retry: FAST });
    await download(urls[1]!, { cache: small, retry: FAST });
    await small.get(sha(blobs[0]!));
    await download(urls[2]!, { cache: small, retry: FAST });
    expect(await small.get(sha(blobs[1]!))).toBeNull();
    expect(await small.get(sha(blobs[0]!))).not.toBeNull();
    expect(await small.get(sha(blobs[2]!))).not.toBeNull();
  });
});
