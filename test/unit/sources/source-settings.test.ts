import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RequestSchema, type JobEvent } from '../../../electron/engine/api';
import { runRequest } from '../../../electron/engine/operations';
import { DownloadCache } from '../../../electron/engine/sources/cache';
import { withSourceSettings } from '../../../electron/engine/sources/source-settings';

const catalog = (id: string): string =>
  JSON.stringify({ format: 'cardsmith-catalog/1', entries: [{ id, name: `Entry ${id}`, kind: 'image', boards: ['rock64'], url: `http://127.0.0.1:1/${id}.img` }] });

describe('request settings reach the catalog and the cache', () => {
  let server: Server;
  let base: string;
  let dir: string;
  const saved = { cache: process.env.CARDSMITH_CACHE, catalogs: process.env.CARDSMITH_CATALOGS };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cardsmith-source-settings-'));
    server = createServer((req, res) => {
      const id = /^\/(\w+)\.json$/.exec(req.url ?? '')?.[1];
      if (!id) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(catalog(id));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    for (const [name, value] of [['CARDSMITH_CACHE', saved.cache], ['CARDSMITH_CATALOGS', saved.catalogs]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function catalogIds(request: unknown): Promise<string[]> {
    const events: JobEvent[] = [];
    const result = await runRequest<'catalog'>(request, (event) => events.push(event));
    if (!result) throw new Error(JSON.stringify(events.find((event) => event.type === 'error')));
    return result.entries.map((entry) => entry.id);
  }

  it('reads the catalog URLs and the cache folder of the request, not those of the environment', async () => {
    const envCache = join(dir, 'env-cache');
    const requestCache = join(dir, 'request-cache');
    process.env.CARDSMITH_CACHE = envCache;
    process.env.CARDSMITH_CATALOGS = `${base}/fromenv.json`;

    const fromRequest = await catalogIds({ op: 'catalog', settings: { cacheDir: requestCache, catalogUrls: [`${base}/fromsettings.json`] } });
    expect(fromRequest).toContain('fromsettings');
    expect(fromRequest).not.toContain('fromenv');
    expect(readdirSync(join(requestCache, 'catalogs'))).toHaveLength(1);
    expect(existsSync(envCache)).toBe(false);

    const fromEnv = await catalogIds({ op: 'catalog' });
    expect(fromEnv).toContain('fromenv');
    expect(fromEnv).not.toContain('fromsettings');
    expect(readdirSync(join(envCache, 'catalogs'))).toHaveLength(1);
  });

  it('an empty catalog list in the settings turns the environment list off', async () => {
    process.env.CARDSMITH_CATALOGS = `${base}/fromenv.json`;
    const ids = await catalogIds({ op: 'catalog', settings: { cacheDir: join(dir, 'empty'), catalogUrls: [] } });
    expect(ids).not.toContain('fromenv');
    expect(ids.length).toBeGreaterThan(0);
  });

  it('keeps each job to its own settings when two run at once', async () => {
    const [a, b] = await Promise.all([
      withSourceSettings({ cacheDir: '/a', cacheLimitBytes: 1000 }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return new DownloadCache();
      }),
      withSourceSettings({ cacheDir: '/b' }, async () => new DownloadCache()),
    ]);
    expect([a.root, a.limitBytes]).toEqual(['/a', 1000]);
    expect(b.root).toBe('/b');
    expect(b.limitBytes).toBe(new DownloadCache({ root: '/c' }).limitBytes);
  });

  it('refuses a relative cache folder, a non-http catalog URL and unknown fields', () => {
    const parse = (settings: unknown) => RequestSchema.safeParse({ op: 'fetch', source: 'x', settings });
    expect(parse({ cacheDir: '/var/cache/c', cacheLimitBytes: 1 << 30, catalogUrls: ['https://example.org/c.json'] }).success).toBe(true);
    expect(parse({ cacheDir: 'C:\\Users\\me\\cache' }).success).toBe(true);
    expect(parse({ cacheDir: 'cache' }).success).toBe(false);
    expect(parse({ catalogUrls: ['file:///etc/passwd'] }).success).toBe(false);
    expect(parse({ catalogUrls: ['not a url'] }).success).toBe(false);
    expect(parse({ cacheLimitBytes: -1 }).success).toBe(false);
    expect(parse({ cacheDirectory: '/x' }).success).toBe(false);
  });
});
