/**
 * The Station in Chromium against the real engine through the test bridge and real loop devices
 * (issue 17): a loop device present before the start is listed as untouched and never written;
 * two loop devices attached one after the other while it runs are each flashed and verified by
 * their own job (their bytes are compared with the image, so "done ✓" is not only the UI's word);
 * a third, too small, fails alone with its reason; with the reader filter on the cards' folder, a
 * card whose reader (a loop device's backing file) is elsewhere is refused with why and never
 * written; the saved report (CSV and JSON) lists the three cards with each one's reader path and
 * the image's sha256 (from the engine); axe finds nothing serious on the Station view or on the
 * Card step's several-cards list.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sha256OfRange } from '../helpers/bytes';
import { attachLoop, createSparseFile, detachLoop } from '../helpers/loop';
import { chooseGenericLocalImage, writeCardImage } from '../helpers/e2e-cards';
import { describeWith } from '../helpers/needs';
import { CHROMIUM, openSession, ROOT, type Session } from './harness';

interface AxeResult {
  readonly violations: readonly { readonly id: string; readonly impact: string | null; readonly help: string; readonly nodes: readonly { readonly target: readonly string[] }[] }[];
}
declare const axe: { run(context: unknown, options: unknown): Promise<AxeResult> };
declare const document: unknown;

const AXE_SOURCE = readFileSync(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const MiB = 1024 * 1024;
const IMAGE_BYTES = 8 * MiB;

describeWith(['root', 'tool:losetup', 'tool:sfdisk', `file:${CHROMIUM}`], 'the Station flashes each card inserted while it runs', () => {
  let session: Session;
  let dir: string;
  let image: string;
  let before = '';
  let beforeHash = '';
  // The bridge offers only the loop devices on this list (it keeps the array, so cards attached
  // later are added here): other tests' loop devices on this machine are never seen, let alone written.
  const offered: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cardsmith-e2e-station-'));
    image = join(dir, 'station.img');
    writeCardImage(image, IMAGE_BYTES);
    const backing = join(dir, 'before.img');
    writeFileSync(backing, randomBytes(16 * MiB));
    before = attachLoop(backing);
    offered.push(before);
    beforeHash = sha256OfRange(before, 16 * MiB);
    session = await openSession('station', { allowLoop: offered });
  });

  afterAll(async () => {
    try {
      await session?.close();
    } finally {
      for (const loop of offered) detachLoop(loop);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** axe-core's serious and critical findings on the page as it is now. */
  async function seriousViolations(): Promise<string[]> {
    const { page } = session;
    await page.evaluate(AXE_SOURCE);
    const result = await page.evaluate(() => axe.run(document, { resultTypes: ['violations'] }));
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }

  /** A card in the "reader" the filter takes: its backing file in cards/ (or elsewhere, to be refused). */
  async function insertCard(name: string, sizeBytes = 16 * MiB, folder = 'cards'): Promise<string> {
    mkdirSync(join(dir, folder), { recursive: true });
    const backing = join(dir, folder, name);
    createSparseFile(backing, sizeBytes);
    const device = attachLoop(backing);
    offered.push(device);
    return device;
  }

  it('leaves the card present at the start alone, flashes and verifies cards inserted later, and fails a too-small one alone', async () => {
    const { page, shot, bridge } = session;
    await chooseGenericLocalImage(session, image);
    // The Card step's several-cards choice, as checkboxes, in real Chromium and under axe.
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('checkbox', { name: 'Several cards at once' }).check();
    await expect.poll(() => page.getByRole('checkbox', { name: new RegExp(`${before.replace(/\//g, '\\/')} ·`) }).count(), { timeout: 15_000 }).toBe(1);
    await shot('00-card-step-several');
    expect(await seriousViolations()).toEqual([]);
    await page.getByRole('checkbox', { name: 'Several cards at once' }).uncheck();
    await page.getByRole('button', { name: 'Station', exact: true }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Flashing station');
    // The reader filter offers the readers the real scanner found: a loop device's is its backing file.
    await expect.poll(() => page.locator(`#station-readers option[value="${join(dir, 'before.img')}"]`).count(), { timeout: 15_000 }).toBe(1);
    const readerFilter = `${join(dir, 'cards')}/`;
    await page.getByLabel('Only cards in this reader (port path, optional)').fill(readerFilter);
    await shot('01-station-ready');

    await page.getByRole('button', { name: 'Start the station' }).click();
    await expect.poll(() => page.locator('.station-page').getAttribute('data-station'), { timeout: 30_000 }).toBe('watching');
    expect(await page.locator(`.station-untouched li[data-device="${before}"]`).count()).toBe(1);

    const first = await insertCard('first.img');
    const firstRow = page.locator(`tr[data-device="${first}"]`);
    await expect.poll(() => firstRow.getAttribute('data-state').catch(() => null), { timeout: 60_000 }).toBe('done');
    const second = await insertCard('second.img');
    const secondRow = page.locator(`tr[data-device="${second}"]`);
    await expect.poll(() => secondRow.getAttribute('data-state').catch(() => null), { timeout: 60_000 }).not.toBe(null);
    await shot('02-second-card-running');
    await expect.poll(() => secondRow.getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    await expect.poll(() => page.locator('.station-tally').textContent()).toBe('2 cards done ✓ · 0 cards failed ✗ · 0 cards running');
    // A card smaller than the image fails alone, and its row says why.
    const small = await insertCard('small.img', 4 * MiB);
    const smallRow = page.locator(`tr[data-device="${small}"]`);
    await expect.poll(() => smallRow.getAttribute('data-state').catch(() => null), { timeout: 60_000 }).toBe('failed');
    expect(await smallRow.locator('.card-state').textContent()).toMatch(/^failed ✗: Not enough space: /);
    expect(await smallRow.locator('progress').evaluate((bar) => (bar as unknown as { position: number }).position)).toBe(0); // not an endless animation
    await expect.poll(() => page.locator('.station-tally').textContent()).toBe('2 cards done ✓ · 1 card failed ✗ · 0 cards running');
    // A card in another "reader" is refused by the filter, with why.
    const elsewhere = await insertCard('elsewhere.img', 16 * MiB, 'other');
    const elsewhereSkip = page.locator(`.station-skipped li[data-device="${elsewhere}"]`);
    await expect.poll(() => elsewhereSkip.textContent().catch(() => null), { timeout: 30_000 }).toBe(`${elsewhere}: its reader ${join(dir, 'other', 'elsewhere.img')} is not under ${readerFilter}`);
    await shot('03-two-done-one-failed');

    const flashes = bridge.requests.filter((r) => (r as { op?: string }).op === 'flash') as { device: string; verify: boolean; source: string }[];
    expect(flashes.map((f) => [f.device, f.verify, f.source])).toEqual([
      [first, true, image],
      [second, true, image],
      [small, true, image],
    ]);
    const imageHash = sha256OfRange(image, IMAGE_BYTES);
    expect(sha256OfRange(first, IMAGE_BYTES)).toBe(imageHash);
    expect(sha256OfRange(second, IMAGE_BYTES)).toBe(imageHash);
    expect(sha256OfRange(before, 16 * MiB)).toBe(beforeHash);
    expect(sha256OfRange(elsewhere, 16 * MiB)).toBe(sha256OfRange(join(dir, 'other', 'elsewhere.img'), 16 * MiB));
    expect(bridge.requests.filter((r) => (r as { op?: string; source?: string }).op === 'fetch').map((r) => (r as { source: string }).source)).toEqual([image]);

    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save report (CSV)' }).click()]);
    const csv = readFileSync(await csvDownload.path(), 'utf8').trim().split('\r\n');
    expect(csv[0]).toBe('time,device,reader_vendor,reader_model,reader_serial,reader_path,size_bytes,image_sha256,bytes_written,result,error');
    // device, reader_path, image_sha256, result
    expect(csv.slice(1).map((line) => [1, 5, 7, 9].map((column) => line.split(',')[column]))).toEqual([
      [first, join(dir, 'cards', 'first.img'), imageHash, 'ok'],
      [second, join(dir, 'cards', 'second.img'), imageHash, 'ok'],
      [small, join(dir, 'cards', 'small.img'), imageHash, 'failed'],
    ]);
    const [jsonDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save report (JSON)' }).click()]);
    const report = JSON.parse(readFileSync(await jsonDownload.path(), 'utf8')) as {
      cards: { device: string; result: string; sizeBytes: number; error: string | null; imageSha256: string; reader: { path: string | null } }[];
    };
    expect(report.cards.map((c) => [c.device, c.result, c.sizeBytes, c.reader.path, c.imageSha256])).toEqual([
      [first, 'ok', 16 * MiB, join(dir, 'cards', 'first.img'), imageHash],
      [second, 'ok', 16 * MiB, join(dir, 'cards', 'second.img'), imageHash],
      [small, 'failed', 4 * MiB, join(dir, 'cards', 'small.img'), imageHash],
    ]);
    expect(report.cards[2]?.error).toBeTruthy();

    expect(await seriousViolations()).toEqual([]);

    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await expect.poll(() => page.locator('.station-page').getAttribute('data-station')).toBe('stopped');
    await shot('04-stopped');
    expect(session.pageErrors).toEqual([]);
  });
});
