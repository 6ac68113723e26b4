/**
 * Catalog logos through the engine (sources/icons.ts), from a real HTTP server on 127.0.0.1:
 * checked ones become data: URLs and are kept in the cache (they show offline); a wrong type,
 * bytes that are not what the header says, or an oversized logo are refused; the catalog
 * operation asked for icons hands over data: URLs only, a logo it cannot have left out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultSchemas, type JobEvent } from '../../../electron/engine/api';
import { runRequest } from '../../../electron/engine/operations';
import { DownloadCache } from '../../../electron/engine/sources/cache';
import { ICON_MAX_BYTES, iconDataUrl } from '../../../electron/engine/sources/icons';
import { startTestServer, type TestServer } from '../../integration/sources/test-server';

// A 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const SVG = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>';

describe('catalog logos', () => {
  let server: TestServer;
  let root: string;

  beforeAll(async () => {
    server = await startTestServer();
    root = mkdtempSync(join(tmpdir(), 'cardsmith-icons-'));
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('hands over a PNG or SVG logo as a data: URL and shows it again from the cache when offline', async () => {
    const cache = new DownloadCache({ root: join(root, 'cache-a') });
    const png = server.add('/a/logo.png', PNG, undefined, 'image/png');
    const svg = server.add('/a/logo.svg', SVG, undefined, 'image/svg+xml; charset=utf-8');
    expect(await iconDataUrl(png, cache)).toBe(`data:image/png;base64,${PNG.toString('base64')}`);
    expect(await iconDataUrl(svg, cache)).toBe(`data:image/svg+xml;base64,${Buffer.from(SVG).toString('base64')}`);
    const served = server.log.length;
    expect(await iconDataUrl(png, cache)).toMatch(/^data:image\/png;base64,/);
    expect(server.log.length).toBe(served);
  });

  it('refuses a logo of another type, one whose bytes are not its type, and one too large', async () => {
    const cache = new DownloadCache({ root: join(root, 'cache-b') });
    const html = server.add('/b/page', '<html><script>alert(1)</script></html>', undefined, 'text/html');
    await expect(iconDataUrl(html, cache)).rejects.toMatchObject({ info: { cause: 'source-corrupt', message: expect.stringContaining('"text/html"') } });
    const lying = server.add('/b/lying.png', '<svg onload="alert(1)"></svg>', undefined, 'image/png');
    await expect(iconDataUrl(lying, cache)).rejects.toMatchObject({ info: { cause: 'source-corrupt', message: expect.stringContaining('not the image/png') } });
    const huge = server.add('/b/huge.png', Buffer.concat([PNG, Buffer.alloc(ICON_MAX_BYTES)]), undefined, 'image/png');
    await expect(iconDataUrl(huge, cache)).rejects.toMatchObject({ info: { cause: 'source-corrupt', details: { limitBytes: ICON_MAX_BYTES } } });
  });

  it('gives the catalog data: URLs when asked for icons, leaves out a logo it cannot have, and keeps them offline', async () => {
    const cacheDir = join(root, 'cache-c');
    const logo = server.add('/c/lab.png', PNG, undefined, 'image/png');
    const osList = {
      os_list: [
        { name: 'Lab OS', url: 'https://example.com/lab.img.xz', devices: ['pi4-64bit'], icon: logo, image_download_sha256: 'e'.repeat(64) },
        { name: 'No logo OS', url: 'https://example.com/other.img.xz', devices: ['pi4-64bit'], icon: `${server.base}/c/missing.png`, image_download_sha256: 'f'.repeat(64) },
      ],
    };
    const catalogUrl = server.add('/c/os_list.json', JSON.stringify(osList));
    const catalog = async (icons: boolean): Promise<Map<string, string | undefined>> => {
      const events: JobEvent[] = [];
      const result = ResultSchemas.catalog.parse(await runRequest({ op: 'catalog', board: 'rpi-4-b', icons, settings: { cacheDir, catalogUrls: [catalogUrl] } }, (event) => events.push(event)));
      return new Map(result.entries.filter((entry) => entry.url.startsWith('https://example.com/')).map((entry) => [entry.name, entry.icon]));
    };
    expect(await catalog(false)).toEqual(new Map([['Lab OS', logo], ['No logo OS', `${server.base}/c/missing.png`]]));
    const online = await catalog(true);
    expect(online.get('Lab OS')).toBe(`data:image/png;base64,${PNG.toString('base64')}`);
    expect(online.get('No logo OS')).toBeUndefined();

    server.add('/c/os_list.json', 'gone', { kind: 'fail', status: 404, times: 1000 });
    server.add('/c/lab.png', 'gone', { kind: 'fail', status: 404, times: 1000 });
    expect((await catalog(true)).get('Lab OS')).toBe(online.get('Lab OS'));
  });
});
