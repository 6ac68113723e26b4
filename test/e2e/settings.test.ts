/**
 * What the page hands the engine beyond a request, in Chromium against the real engine: a catalog
 * URL typed into Settings is read by the engine (its entries appear on the Image step, its copy
 * lands in the cache folder set beside it), and a file dropped on the Image step is inspected by
 * the path the bridge's pathForFile stand-in gives for it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/needs';
import { CHROMIUM, openSession, type Session } from './harness';

// Callbacks given to page.evaluate run in the browser; this types the bridge's hook there.
declare const window: { __cardsmithBridge: { setDroppedFilePath(name: string, path: string): void } };
declare class DataTransfer {
  readonly items: { add(file: File): void };
}

describeWith([`file:${CHROMIUM}`, 'tool:sfdisk'], 'settings and dropped files reach the engine', () => {
  let session: Session;
  let dir: string;
  let server: Server;
  let catalogUrl: string;
  let catalogHits = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cardsmith-e2e-settings-'));
    const catalog = JSON.stringify({
      format: 'cardsmith-catalog/1',
      entries: [{ id: 'e2e-local-image', name: 'Local test image for ROCK64', kind: 'image', boards: ['rock64'], url: 'http://127.0.0.1:1/unused.img.xz' }],
    });
    server = createServer((req, res) => {
      if (req.url !== '/catalog.json') return void res.writeHead(404).end();
      catalogHits += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(catalog);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    catalogUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/catalog.json`;
    session = await openSession('settings');
  });

  afterAll(async () => {
    await session?.close();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a catalog URL set in Settings and lists its entries on the Catalog tab', async () => {
    const { page, shot, bridge } = session;
    const cache = join(dir, 'cache');
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Cache folder (empty: next to the source)').fill(cache);
    await page.getByLabel('Extra catalog URLs, one per line').fill(`${catalogUrl}\nftp://127.0.0.1/other.json`);
    await page.getByLabel('Cache size limit (GiB)').focus();
    await expect.poll(() => page.getByText('Only http(s) URLs are read; left out: ftp://127.0.0.1/other.json').count()).toBe(1);
    await shot('01-settings-catalog');

    await page.getByRole('button', { name: 'Flash a card' }).click();
    await page.getByLabel('Search boards').fill('rock64');
    await page.getByRole('radio', { name: /^ROCK64/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('tab', { name: 'Catalog' }).click();
    await expect.poll(() => page.getByRole('radio', { name: /Local test image for ROCK64/ }).count(), { timeout: 30_000 }).toBe(1);
    await shot('02-catalog-from-settings');

    const catalogRequest = bridge.requests.findLast((r) => (r as { op?: string }).op === 'catalog');
    expect(catalogRequest).toMatchObject({ op: 'catalog', board: 'rock64', settings: { cacheDir: cache, catalogUrls: [catalogUrl], cacheLimitBytes: 8 * 1024 ** 3 } });
    expect(catalogHits).toBeGreaterThan(0);
    expect(readdirSync(join(cache, 'catalogs'))).toHaveLength(1);
  });

  it('inspects a dropped file by the path pathForFile gives', async () => {
    const { page, shot, bridge } = session;
    const image = join(dir, 'dropped card.img');
    writeFileSync(image, Buffer.alloc(4 * 1024 * 1024));
    execFileSync('sfdisk', ['--quiet', image], { input: 'label: dos\nstart=2048, type=83\n' });
    await page.getByRole('tab', { name: 'Local file' }).click();
    await page.evaluate(([name, path]) => window.__cardsmithBridge.setDroppedFilePath(name, path), ['dropped card.img', image] as const);
    const transfer = await page.evaluateHandle(() => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(16)], 'dropped card.img'));
      return data;
    });
    await page.dispatchEvent('.drop-zone', 'drop', { dataTransfer: transfer });
    await expect.poll(() => page.getByText(`Chosen image: ${image}`).count()).toBe(1);
    await expect.poll(() => page.locator('dl.facts dd').first().textContent(), { timeout: 30_000 }).toBe('mbr');
    await shot('03-dropped-file');
    expect(bridge.requests.findLast((r) => (r as { op?: string }).op === 'inspect')).toMatchObject({ op: 'inspect', target: image });
    expect(session.pageErrors).toEqual([]);
  });
});
