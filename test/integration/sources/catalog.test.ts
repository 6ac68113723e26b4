import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    expect(ids).toEqual(expect.arrayContaining(['archlinuxarm-aarch64', 'test-image', 'armbian:25-8-1-rock64-bookworm-current-6-12-41-minimal-img-xz']));
    const names = loaded.entries.map((entry) => entry.name);
    expect(names).toEqual(expect.arrayContaining(['Raspberry Pi OS (64-bit)', 'Other general-purpose OS / Ubuntu Server']));
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

describe('which files a catalog may name (issue 12, item 5)', () => {
  let server: TestServer;
  let root: string;
  const image = randomBytes(100_000);

  beforeAll(async () => {
    server = await startTestServer();
    root = mkdtempSync(join(tmpdir(), 'cardsmith-catalog-local-'));
    mkdirSync(join(root, 'images'));
    writeFileSync(join(root, 'images', 'local.img'), image);
    const entry = (id: string, url: string): object => ({ id, name: id, kind: 'image', boards: ['rock64'], url });
    server.add(
      '/remote.json',
      JSON.stringify({
        format: 'cardsmith-catalog/1',
        entries: [entry('shadow', '/etc/shadow'), entry('relative', 'images/local.img'), entry('file-url', 'file:///etc/shadow'), entry('ftp', 'ftp://example.org/a.img')],
      }),
    );
    server.add('/os-list.json', JSON.stringify({ os_list: [{ name: 'Shadow', url: '/etc/shadow', devices: ['pi4-64bit'] }] }));
    writeFileSync(
      join(root, 'local.json'),
      JSON.stringify({
        format: 'cardsmith-catalog/1',
        entries: [
          { ...entry('local-relative', 'images/local.img'), sha256: sha(image) },
          entry('local-absolute', join(root, 'images', 'local.img')),
          entry('local-file-url', `file://${join(root, 'images', 'local.img')}`),
        ],
      }),
    );
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('a fetched catalog naming /etc/shadow, a relative path or file:// gets problem lines, and the ids cannot be flashed', async () => {
    const cache = new DownloadCache({ root: join(root, 'cache') });
    const loaded = await loadCatalogs({ boardIds, extraUrls: [`${server.base}/remote.json`, `${server.base}/os-list.json`], followIncludes: false, cache, retry: FAST });
    const ids = loaded.entries.map((entry) => entry.id);
    for (const id of ['shadow', 'relative', 'file-url', 'ftp']) expect(ids).not.toContain(id);
    expect(loaded.entries.some((entry) => entry.url.includes('shadow'))).toBe(false);
    expect(loaded.problems.filter((line) => line.includes('remote.json'))).toEqual([
      `${server.base}/remote.json: entry shadow: url "/etc/shadow" names a local file, which only a catalog file on this computer may do (local-path-in-remote-catalog)`,
      `${server.base}/remote.json: entry relative: url "images/local.img" names a local file, which only a catalog file on this computer may do (local-path-in-remote-catalog)`,
      `${server.base}/remote.json: entry file-url: url "file:///etc/shadow" names a local file, which only a catalog file on this computer may do (local-path-in-remote-catalog)`,
      `${server.base}/remote.json: entry ftp: url "ftp://example.org/a.img" is not http(s) (unsupported-url)`,
    ]);
    expect(loaded.problems).toContain(`${server.base}/os-list.json: item Shadow: url "/etc/shadow" names a local file, which only a catalog file on this computer may do (local-path-in-remote-catalog)`);
    expect(loaded.stats.find((row) => row.source === `${server.base}/remote.json`)).toMatchObject({ read: 4, listed: 0, skipped: { 'local-path-in-remote-catalog': 3, 'unsupported-url': 1 } });

    process.env.CARDSMITH_CACHE = join(root, 'cache');
    process.env.CARDSMITH_CATALOGS = `${server.base}/remote.json`;
    try {
      const events: JobEvent[] = [];
      await runRequest({ op: 'fetch', source: 'shadow', output: join(root, 'stolen') }, (event) => events.push(event));
      expect(events.at(-1)).toMatchObject({ type: 'error', error: { cause: 'bad-input', message: '"shadow" is neither an http(s) URL nor a catalog id' } });
    } finally {
      delete process.env.CARDSMITH_CACHE;
      delete process.env.CARDSMITH_CATALOGS;
    }
  });

  it('a catalog file on disk the user chose may name local images, relative to its folder', async () => {
    const cache = new DownloadCache({ root: join(root, 'cache') });
    const loaded = await loadCatalogs({ boardIds, extraUrls: [join(root, 'local.json')], followIncludes: false, cache, retry: FAST });
    const local = loaded.entries.filter((entry) => entry.id.startsWith('local-'));
    expect(local.map((entry) => [entry.id, entry.url])).toEqual([
      ['local-relative', join(root, 'images', 'local.img')],
      ['local-absolute', join(root, 'images', 'local.img')],
      ['local-file-url', join(root, 'images', 'local.img')],
    ]);
    expect(loaded.problems).toEqual([]);
    process.env.CARDSMITH_CACHE = join(root, 'cache');
    process.env.CARDSMITH_CATALOGS = join(root, 'local.json');
    try {
      const opened = await openImageRef('local-relative', createJobContext(() => undefined, new AbortController().signal));
      expect(opened.info).toMatchObject({ path: join(root, 'images', 'local.img'), sizeBytes: image.length });
      const parts: Buffer[] = [];
      for await (const part of opened.stream()) parts.push(part as Buffer);
      expect(sha(Buffer.concat(parts))).toBe(sha(image));
    } finally {
      delete process.env.CARDSMITH_CACHE;
      delete process.env.CARDSMITH_CATALOGS;
    }
  });
});

describe('one published file in two catalogs', () => {
  it('is listed once; the second catalog counts it as duplicate-id with a problem line', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cardsmith-catalog-dup-'));
    try {
      const legacy = join(__dirname, '..', '..', 'fixtures', 'catalogs', 'armbian-legacy.json');
      writeFileSync(join(root, 'mirror.json'), readFileSync(legacy));
      const loaded = await loadCatalogs({ boardIds, extraUrls: [legacy, join(root, 'mirror.json')], followIncludes: false, cache: new DownloadCache({ root }), retry: FAST });
      expect(loaded.entries.filter((entry) => entry.id.startsWith('armbian:'))).toHaveLength(4);
      const mirror = loaded.stats.find((row) => row.source === join(root, 'mirror.json'));
      expect(mirror).toMatchObject({ read: 6, listed: 0, skipped: { 'not-a-card-image': 1, 'invalid-field': 1, 'duplicate-id': 4 }, boards: [] });
      expect(loaded.problems.filter((line) => line.endsWith('(duplicate-id)'))).toHaveLength(4);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('cardsmith catalog --stats', () => {
  const repo = join(__dirname, '..', '..', '..');
  const fixtures = ['os-list.json', 'armbian-current.json', 'armbian-legacy.json'].map((name) => join(repo, 'test', 'fixtures', 'catalogs', name));
  beforeAll(() => {
    execFileSync(process.execPath, [join(repo, 'scripts', 'build.mjs'), 'cli'], { cwd: repo, stdio: 'ignore' });
  });

  it('lists per catalog what was read, listed and skipped and why, and names every skipped entry', () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'cardsmith-stats-'));
    try {
      const run = spawnSync(process.execPath, [join(repo, 'bin', 'cardsmith.cjs'), 'catalog', '--stats'], {
        encoding: 'utf8',
        env: { ...process.env, CARDSMITH_PUBLIC_CATALOGS: '0', CARDSMITH_CACHE: cacheDir, CARDSMITH_CATALOGS: fixtures.join(',') },
      });
      expect(run.status).toBe(0);
      const section = (source: string): string => run.stdout.split(/\n(?=\S)/).find((part) => part.startsWith(source))!;
      expect(section('default')).toMatch(/^default \(cardsmith\)\n {2}read 4, listed 4, skipped 0\n/);
      expect(section(fixtures[0]!)).toContain(
        [
          // A catalog file on disk may name local images: its relative Kiosk image is listed here.
          '  read 14, listed 8, skipped 6',
          '    imager-action: 2',
          '    invalid-field: 1',
          '    missing-field: 1',
          '    not-a-card-image: 1',
          '    unsupported-url: 1',
          '  boards covered (11): rpi-2-b rpi-3-b rpi-3-b-armv7 rpi-3-b-plus rpi-4-b rpi-4-b-armv7 rpi-400 rpi-5 rpi-b rpi-zero-2-w rpi-zero-w',
          '  no Cardsmith board for (1): pi2-64bit',
        ].join('\n'),
      );
      expect(section(fixtures[1]!)).toContain('  read 17, listed 10, skipped 7\n    invalid-field: 1\n    missing-field: 1\n    not-a-card-image: 4\n    unsupported-url: 1\n');
      expect(section(fixtures[2]!)).toContain('  read 6, listed 4, skipped 2\n    invalid-field: 1\n    not-a-card-image: 1\n');
      // The os_list's subitems_url points at a closed port on this machine: a row and a warning of its own.
      expect(section('http://127.0.0.1:9/')).toMatch(/\(unreadable\)\n {2}read 0, listed 0, skipped 0/);
      const warnings = run.stderr.split('\n').filter((line) => line.startsWith('warning: '));
      expect(warnings).toHaveLength(6 + 7 + 2 + 1);
      expect(warnings.filter((line) => line.includes('(not-a-card-image)'))).toHaveLength(1 + 4 + 1);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('without --stats lists the entries and sums the skipped ones up in one line, keeping catalog-level warnings', () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'cardsmith-stats-'));
    try {
      const run = spawnSync(process.execPath, [join(repo, 'bin', 'cardsmith.cjs'), 'catalog', '--board', 'rpi-5'], {
        encoding: 'utf8',
        env: { ...process.env, CARDSMITH_PUBLIC_CATALOGS: '0', CARDSMITH_CACHE: cacheDir, CARDSMITH_CATALOGS: fixtures.join(',') },
      });
      expect(run.status).toBe(0);
      // rpi-5: Raspberry Pi OS 64 and 32-bit, PINN p3.9.2, both nightlies, the relative Kiosk image (folder tags pi4/pi5), Armbian rpi4b.
      expect(run.stdout.trim().split('\n')).toHaveLength(7);
      expect(run.stderr.split('\n').filter((line) => line.startsWith('warning: '))).toEqual([
        expect.stringMatching(/^warning: http:\/\/127\.0\.0\.1:9\/os_list_imagingutility_v4_general\.json: .*ECONNREFUSED/),
        'warning: 15 catalog entries were not listed; `cardsmith catalog --stats` names each and why',
      ]);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
