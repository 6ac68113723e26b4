/**
 * Issue 8's promise, in Chromium against the real engine through the test bridge: from launch to
 * a verified card in five clicks with the defaults. The catalog is part of the engine's defaults
 * for this run (CARDSMITH_CATALOGS names a catalog on a loopback server), the one loop device is
 * the only card that can be chosen, and every click or keypress from launch to the Done page is
 * counted. The card's bytes are then compared with the decompressed image, so "verified" is not
 * only the UI's word.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { attachLoop, createSparseFile, detachLoop } from '../helpers/loop';
import { describeWith } from '../helpers/needs';
import { CHROMIUM, openSession, type Session } from './harness';
import { sha256OfRange } from '../helpers/bytes';

const MiB = 1024 * 1024;
const IMAGE_BYTES = 64 * MiB;
const BOARD_NAME = 'Raspberry Pi 5';
const ENTRY_NAME = 'Five-click test image for Raspberry Pi 5';
const MAX_ACTIONS = 5;


/** A 64 MiB MBR image (a FAT-typed boot partition, a Linux root) with random data in both, xz-compressed. */
function makeImage(dir: string): { raw: string; xz: string } {
  const raw = join(dir, 'five-clicks.img');
  writeFileSync(raw, Buffer.alloc(IMAGE_BYTES));
  execFileSync('sfdisk', ['--quiet', raw], { input: 'label: dos\nstart=2048, size=32768, type=c, bootable\nstart=34816, type=83\n' });
  const fd = openSync(raw, 'r+');
  try {
    for (const offset of [MiB, 17 * MiB, 40 * MiB]) writeSync(fd, randomBytes(2 * MiB), 0, 2 * MiB, offset);
  } finally {
    closeSync(fd);
  }
  execFileSync('xz', ['-T1', '-0', '-k', raw]);
  return { raw, xz: `${raw}.xz` };
}

describeWith(['root', 'tool:losetup', 'tool:sfdisk', 'tool:xz', `file:${CHROMIUM}`], 'launch to a verified card in five clicks', () => {
  let session: Session;
  let dir: string;
  let server: Server;
  let image: { raw: string; xz: string };
  let card = '';
  const savedEnv = { catalogs: process.env.CARDSMITH_CATALOGS, cache: process.env.CARDSMITH_CACHE };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cardsmith-e2e-five-'));
    image = makeImage(dir);
    const compressed = readFileSync(image.xz);
    let catalog = '';
    server = createServer((req, res) => {
      if (req.url === '/catalog.json') return void res.writeHead(200, { 'content-type': 'application/json' }).end(catalog);
      if (req.url === '/five-clicks.img.xz') return void res.writeHead(200, { 'content-type': 'application/x-xz', 'content-length': compressed.length }).end(compressed);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    catalog = JSON.stringify({
      format: 'cardsmith-catalog/1',
      name: 'Five-click e2e catalog',
      entries: [
        {
          id: 'e2e-five-clicks-rpi-5',
          name: ENTRY_NAME,
          description: 'A 64 MiB MBR image served from 127.0.0.1',
          kind: 'image',
          boards: ['rpi-5'],
          url: `${base}/five-clicks.img.xz`,
          sha256: createHash('sha256').update(compressed).digest('hex'),
          extractSha256: sha256OfRange(image.raw, IMAGE_BYTES),
          downloadSize: compressed.length,
          extractSize: IMAGE_BYTES,
          releaseDate: '2026-11-26',
        },
      ],
    });
    process.env.CARDSMITH_CATALOGS = `${base}/catalog.json`;
    process.env.CARDSMITH_CACHE = join(dir, 'cache');

    const backing = join(dir, 'card.img');
    createSparseFile(backing, 128 * MiB);
    card = attachLoop(backing);
    // Only this card is offered: loop devices other tests attach meanwhile stay out of the list.
    session = await openSession('five-clicks', { allowLoop: [card] });
  });

  afterAll(async () => {
    try {
      await session?.close();
    } finally {
      if (card) detachLoop(card);
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      for (const [name, value] of [['CARDSMITH_CATALOGS', savedEnv.catalogs], ['CARDSMITH_CACHE', savedEnv.cache]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('flashes and verifies the default catalog image onto the only card in at most five clicks', async () => {
    const { page, shot, bridge } = session;
    const heading = (): Promise<string | null> => page.getByRole('heading', { level: 1 }).textContent();
    const checked = (name: RegExp) => () => page.getByRole('radio', { name }).isChecked();
    let actions = 0;
    /** Every click or keypress the person makes goes through here, so none escapes the count. */
    const click = async (role: 'radio' | 'button', name: string | RegExp): Promise<void> => {
      actions += 1;
      await page.getByRole(role, { name }).click();
    };

    await expect.poll(heading).toBe('Which board will the card boot?');
    await expect.poll(() => page.getByRole('radio', { name: new RegExp(`^${BOARD_NAME}\\b`) }).count(), { timeout: 30_000 }).toBe(1);
    await shot('00-launch');

    await click('radio', new RegExp(`^${BOARD_NAME}\\b`));
    await shot('01-board');
    await click('button', 'Next');
    await expect.poll(checked(new RegExp(ENTRY_NAME)), { timeout: 30_000 }).toBe(true);
    await shot('02-image-default');
    await click('button', 'Next');
    await expect.poll(heading).toBe('Which card should be written?');
    await expect.poll(checked(new RegExp(`${card.replace(/[/]/g, '\\/')} ·`)), { timeout: 15_000 }).toBe(true);
    await shot('03-card-default');
    await click('button', 'Next');
    await expect.poll(heading).toBe('Check before writing');
    await shot('04-review');
    await click('button', 'Flash the card');
    const write = page.locator('.phase-row[data-phase="write"]');
    await expect.poll(() => write.getAttribute('data-status'), { timeout: 60_000 }).not.toBe('pending');
    await shot('05-flashing');
    await expect
      .poll(async () => ((await heading()) === 'The card is ready' ? 'done' : await page.locator('.job-view').getAttribute('data-job-status').catch(() => null)), {
        timeout: 240_000,
      })
      .not.toBe('running');
    await shot('06-done');
    if ((await heading()) !== 'The card is ready') throw new Error(`flash ended without Done: ${await page.locator('.content').innerText()}`);
    expect(await page.getByText('Verified: the card matches the image.').count()).toBe(1);
    expect(actions).toBeLessThanOrEqual(MAX_ACTIONS);

    // The catalog came from the engine's defaults (the environment), not from anything the page set.
    const catalogRequest = bridge.requests.findLast((r) => (r as { op?: string }).op === 'catalog') as { board?: string; settings?: { catalogUrls?: unknown } };
    expect(catalogRequest.board).toBe('rpi-5');
    expect(catalogRequest.settings?.catalogUrls).toBeUndefined();
    const flash = bridge.requests.find((r) => (r as { op?: string }).op === 'flash');
    expect(flash).toMatchObject({ op: 'flash', source: 'e2e-five-clicks-rpi-5', device: card, verify: true, board: 'rpi-5', allowLoop: true });
    expect(statSync(card).isBlockDevice()).toBe(true);
    expect(sha256OfRange(card, IMAGE_BYTES)).toBe(sha256OfRange(image.raw, IMAGE_BYTES));
    expect(session.pageErrors).toEqual([]);
  });
});
