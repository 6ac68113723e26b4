import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../../electron/engine/api';
import { boardDatabase } from '../../../electron/engine/boards/db';
import { createJobContext } from '../../../electron/engine/job';
import { runRequest } from '../../../electron/engine/operations';
import { openImageRef } from '../../../electron/engine/sources/source-operations';
import { DownloadCache } from '../../../electron/engine/sources/cache';
import { loadCatalogs } from '../../../electron/engine/sources/catalog';
import { download } from '../../../electron/engine/sources/fetch';
import { startTestServer, type TestServer } from './test-server';

const FAST = { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 };
const boardIds = boardDatabase().boards.map((board) => board.id);
const fixture = (name: string): string => readFileSync(join(__dirname, '../../unit/sources/fixtures', name), 'utf8');
const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('catalogs over HTTP', () => {
  let server: TestServer;
  let root: string;
  const image = randomBytes(200_000);

  beforeAll(async () => {
    server = await startTestServer();
    root = mkdtempSync(join(tmpdir(), 'cardsmith-catalog-'));
    const imageUrl = server.add('/images/test.img', image);
    server.add('/images/test.img.sha256', `${sha(image)}  test.img\n`);
    server.add(
      '/cardsmith.json',
      JSON.stringify({
        format: 'cardsmith-catalog/1',
        entries: [
          { id: 'test-image', name: 'Test image', kind: 'image', boards: ['rock64'], url: imageUrl, checksumUrl: `${server.base}/images/test.img.sha256` },
          { id: 'broken', name: 'Broken', kind: 'rootfs', boards: [], url: imageUrl },
        ],
      }),
    );
    const rpi = JSON.parse(fixture('rpi-os-list.json')) as { os_list: { subitems_url?: string }[] };
    for (const item of rpi.os_list) if (item.subitems_url) item.subitems_url = `${server.base}/rpi-general.json`;
    server.add('/rpi.json', JSON.stringify(rpi));
    server.add(
      '/rpi-general.json',
      JSON.stringify({ os_list: [{ name: 'Ubuntu Server', url: 'https://example.com/ubuntu.img.xz', devices: ['pi4-64bit'], image_download_sha256: 'e'.repeat(64) }] }),
    );
    server.add('/armbian.json', fixture('armbian-images.json'));
    server.add('/not-json.json', '<html>');
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  const urls = (): string[] => ['/cardsmith.json', '/rpi.json', '/armbian.json', '/not-json.json', '/missing.json'].map((path) => `${server.base}${path}`);

  it('merges every format, follows subitems_url, and names each problem', async () => {
    const cache = new DownloadCache({ root });
    const loaded = await loadCatalogs({ boardIds, extraUrls: urls(), followIncludes: false, cache, retry: FAST });
    const ids = loaded.entries.map((entry) => entry.id);
    expect(ids).toEqual(expect.arrayContaining(['archlinuxarm-aarch64', 'test-image', 'rpi:raspberry-pi-os-64-bit', 'rpi:other-general-purpose-os-ubuntu-server', 'armbian:rock64-bookworm-current-minimal']));
    expect(ids).not.toContain('broken');
    const problems = loaded.problems.join('\n');
    expect(problems).toMatch(/cardsmith\.json: entry broken: .*loader/);
    expect(problems).toMatch(/not-json\.json: not valid JSON/);
    expect(problems).toMatch(/missing\.json .*404/);
    expect(problems).toMatch(/asset #4 \(nanopineo\)/);
  });

  it('uses catalogs saved earlier when the server is gone', async () => {
    const cache = new DownloadCache({ root });
    const gone = await startTestServer();
    const url = gone.add('/c.json', JSON.stringify({ format: 'cardsmith-catalog/1', entries: [{ id: 'kept', name: 'Kept', kind: 'image', boards: [], url: 'https://example.com/k.img' }] }));
    await loadCatalogs({ boardIds, extraUrls: [url], followIncludes: false, cache, retry: FAST });
    await gone.close();
    const offline = await loadCatalogs({ boardIds, extraUrls: [url], followIncludes: false, cache, retry: FAST });
    expect(offline.entries.map((entry) => entry.id)).toContain('kept');
    expect(offline.problems.join('\n')).toMatch(/unreachable .*copy saved earlier/);
  });

  it('marks two entries sharing a cached sha256 as cached, in parallel, without failing', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'cardsmith-catalog-shared-'));
    try {
      const cache = new DownloadCache({ root: shared });
      const imageUrl = `${server.base}/images/test.img`;
      await download(imageUrl, { cache, expectedSha256: sha(image), retry: FAST });
      const url = server.add(
        '/shared.json',
        JSON.stringify({
          format: 'cardsmith-catalog/1',
          entries: ['first', 'second'].map((id) => ({ id, name: id, kind: 'image', boards: ['rock64'], url: imageUrl, sha256: sha(image) })),
        }),
      );
      for (let round = 0; round < 5; round++) {
        const loaded = await loadCatalogs({ boardIds, extraUrls: [url], followIncludes: false, cache, retry: FAST });
        expect(loaded.entries.filter((entry) => entry.cached).map((entry) => entry.id)).toEqual(expect.arrayContaining(['first', 'second']));
      }
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it('runs the catalog and fetch operations and opens catalog ids: checksum file, cache, -o output, cached flag', async () => {
    process.env.CARDSMITH_CACHE = root;
    process.env.CARDSMITH_CATALOGS = `${server.base}/cardsmith.json`;
    try {
      const events: JobEvent[] = [];
      const out = join(root, 'out.img');
      const fetched = await runRequest<'fetch'>({ op: 'fetch', source: 'test-image', output: out }, (event) => events.push(event));
      expect(fetched).toEqual({ path: out, sha256: sha(image), sizeBytes: image.length });
      expect(sha(readFileSync(out))).toBe(sha(image));
      expect(events.some((event) => event.type === 'progress' && event.phase === 'fetch')).toBe(true);
      const listed = await runRequest<'catalog'>({ op: 'catalog', board: 'rock64' }, () => undefined);
      expect(listed?.entries.find((entry) => entry.id === 'test-image')?.cached).toBe(true);
      expect(listed?.entries.every((entry) => entry.boards.includes('rock64'))).toBe(true);
      const ctx = createJobContext(() => undefined, new AbortController().signal);
      const opened = await openImageRef('test-image', ctx);
      // Served from the cache, where it was stored only after its published hash matched.
      expect(opened.info).toMatchObject({ path: `${server.base}/images/test.img`, compression: 'none', sizeBytes: image.length });
      const parts: Buffer[] = [];
      for await (const part of opened.stream()) parts.push(part as Buffer);
      expect(sha(Buffer.concat(parts))).toBe(sha(image));
      const errors: JobEvent[] = [];
      await runRequest({ op: 'catalog', board: 'no-such-board' }, (event) => errors.push(event));
      expect(errors.at(-1)).toMatchObject({ type: 'error', error: { cause: 'unknown-board' } });
    } finally {
      delete process.env.CARDSMITH_CACHE;
      delete process.env.CARDSMITH_CATALOGS;
    }
  });
});
