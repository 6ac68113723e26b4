/**
 * The shell in Chromium against the real engine: every step and entry renders, choices move the
 * flow forward, an engine error is shown as a classified error panel, keyboard-only use works,
 * light/dark and German apply, and 800×600 holds. What the UI must show is taken from the engine
 * itself (runRequest), and the engine must succeed where the test expects success.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JobEvent } from '../../electron/engine/api';
import type { ErrorInfo } from '../../electron/engine/errors';
import { runRequest } from '../../electron/engine/operations';
import { describeWith } from '../helpers/needs';
import { CHROMIUM, openSession, type Session } from './harness';

// Callbacks given to page.evaluate run in the browser. These few declarations type them without
// adding the DOM library to the Node type-check of the whole test tree.
interface BrowserElement {
  readonly tagName: string;
  readonly textContent: string | null;
  readonly name?: string;
  closest(selector: string): object | null;
}
declare const document: {
  readonly body: object;
  readonly documentElement: { readonly dataset: Record<string, string | undefined>; readonly scrollWidth: number };
  readonly activeElement: BrowserElement | null;
};
declare function getComputedStyle(element: object): { readonly backgroundColor: string; readonly outlineStyle: string };

async function engine(request: unknown): Promise<{ ok: true; result: unknown } | { ok: false; error: ErrorInfo }> {
  let error: ErrorInfo | null = null;
  const result = await runRequest(request, (event: JobEvent) => {
    if (event.type === 'error') error = event.error;
  });
  return error ? { ok: false, error } : { ok: true, result };
}

/** The engine's result for a request that must succeed (its error, if any, fails the test). */
async function engineResult<T>(request: unknown): Promise<T> {
  const outcome = await engine(request);
  if (!outcome.ok) throw new Error(`the engine failed ${JSON.stringify(request)}: ${outcome.error.cause}: ${outcome.error.message}`);
  return outcome.result as T;
}

describeWith([`file:${CHROMIUM}`, 'tool:sfdisk'], 'renderer shell in Chromium', () => {
  let session: Session;
  let dir: string;
  let image: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cardsmith-e2e-shell-'));
    image = join(dir, 'small.img');
    writeFileSync(image, Buffer.alloc(8 * 1024 * 1024));
    execFileSync('sfdisk', ['--quiet', image], { input: 'label: dos\nstart=2048, size=8192, type=c, bootable\nstart=10240, type=83\n' });
    session = await openSession('shell', { allowLoop: false });
  });

  afterAll(async () => {
    await session?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('walks Board → Image → Card, showing what the engine answers', async () => {
    const { page, shot, bridge } = session;
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Which board will the card boot?');

    const list = (await engineResult<{ boards: { id: string; name: string; vendor: string }[] }>({ op: 'listBoards' })).boards;
    const vendors = new Set(list.map((b) => b.vendor));
    await expect.poll(() => page.locator('fieldset.vendor-group').count()).toBe(vendors.size);
    const pick = list[0];
    if (!pick) throw new Error('the engine lists no boards');
    await page.getByLabel('Search boards').fill(pick.name);
    await page.getByRole('radio', { name: new RegExp(`^${pick.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }).first().check();
    await expect(page.getByRole('radio', { checked: true }).count()).resolves.toBe(1);
    expect(await page.locator('.error-panel').count()).toBe(0);
    await shot('01-board');

    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('What should go on the card?');
    await page.getByRole('tab', { name: 'Local file' }).click();
    bridge.setChosenFile(image);
    await page.getByRole('button', { name: 'Choose image file…' }).click();
    await expect.poll(() => page.getByText(`Chosen image: ${image}`).count()).toBe(1);
    const inspected = await engineResult<{ image?: unknown }>({ op: 'inspect', target: image });
    await expect.poll(() => page.locator('dl.facts dd').nth(inspected.image ? 2 : 0).textContent()).toBe('mbr');
    expect(await page.locator('.error-panel').count()).toBe(0);
    await shot('02-image');

    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Which card should be written?');
    const drives = (await engineResult<{ drives: { unsafeReasons: string[]; system: boolean; readOnly: boolean }[] }>({ op: 'listDrives' })).drives;
    const safe = drives.filter((d) => d.unsafeReasons.length === 0 && !d.system && !d.readOnly);
    await expect.poll(() => page.locator('.drive-list .choice').count()).toBe(safe.length);
    expect(await page.locator('.error-panel').count()).toBe(0);
    await shot('03-card');
    expect(bridge.requests.filter((r) => (r as { op?: string }).op === 'listDrives').every((r) => (r as { includeLoop?: boolean }).includeLoop === false)).toBe(true);
  });

  it('inspects an image file and draws its layout', async () => {
    const { page, shot } = session;
    await page.getByRole('button', { name: 'Inspect a card' }).click();
    await page.getByLabel('Card or image file').fill(image);
    await page.getByRole('button', { name: 'Inspect', exact: true }).click();
    await engineResult({ op: 'inspect', target: image });
    await expect.poll(() => page.locator('.layout-bar .segment-partition').count()).toBe(2);
    await expect.poll(() => page.getByText('Partition table: mbr').count()).toBe(1);
    expect(await page.locator('.error-panel').count()).toBe(0);
    await shot('04-inspect');
  });

  it('shows an engine error as a classified panel: inspecting a file that is not there', async () => {
    const { page, shot } = session;
    const missing = join(dir, 'not-there.img');
    const outcome = await engine({ op: 'inspect', target: missing });
    if (outcome.ok) throw new Error(`inspecting ${missing} succeeded`);
    await page.getByLabel('Card or image file').fill(missing);
    await page.getByRole('button', { name: 'Inspect', exact: true }).click();
    const panel = page.locator(`.error-panel[data-cause="${outcome.error.cause}"]`);
    await expect.poll(() => panel.count()).toBe(1);
    expect(await panel.getByRole('heading').textContent()).toBeTruthy();
    expect(await panel.getByRole('button', { name: 'Copy details' }).count()).toBe(1);
    expect(await page.locator('.layout-bar').count()).toBe(0);
    await shot('04b-inspect-error');
  });

  it('offers Verify a card with the image and card fields', async () => {
    const { page, shot } = session;
    await page.getByRole('button', { name: 'Verify a card' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Verify a card against an image');
    await page.getByLabel('Image', { exact: true }).fill(image);
    expect(await page.getByLabel('Card', { exact: true }).count()).toBe(1);
    await shot('05-verify');
  });

  it('switches to dark theme and German, persisted across a reload', async () => {
    const { page, shot } = session;
    await page.getByRole('button', { name: 'Settings' }).click();
    const lightBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.getByLabel('Theme').selectOption('dark');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    const darkBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(darkBg).not.toBe(lightBg);
    await shot('06-settings-dark');
    await page.getByLabel('Language').selectOption('de');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Einstellungen');
    await page.reload();
    await page.getByRole('button', { name: 'Einstellungen' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Einstellungen');
    await shot('07-settings-de');
    await page.getByLabel('Design').selectOption('system');
    await page.getByLabel('Sprache').selectOption('auto');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Settings');
  });

  it('is usable with the keyboard alone', async () => {
    const { page, shot } = session;
    await page.reload();
    // At launch nothing is focused (no focus ring on the title); Tab starts at the top.
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Which board will the card boot?');
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('BODY');
    let reached = false;
    for (let i = 0; i < 40 && !reached; i += 1) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.name === 'board');
    }
    expect(reached).toBe(true);
    const outline = await page.evaluate(() => {
      const label = document.activeElement?.closest('label');
      return label ? getComputedStyle(label).outlineStyle : 'none';
    });
    expect(outline).not.toBe('none');
    await page.keyboard.press('Space');
    await shot('08-keyboard-focus');
    let onNext = false;
    for (let i = 0; i < 80 && !onNext; i += 1) {
      await page.keyboard.press('Tab');
      onNext = await page.evaluate(() => document.activeElement?.textContent === 'Next');
    }
    expect(onNext).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('What should go on the card?');
    // A new screen moves focus to its heading for screen readers, without drawing a ring on it.
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    expect(await page.evaluate(() => (document.activeElement ? getComputedStyle(document.activeElement).outlineStyle : ''))).toBe('none');
  });

  it('holds its layout at 800×600', async () => {
    const { page, shot } = session;
    await page.setViewportSize({ width: 800, height: 600 });
    await page.getByRole('button', { name: 'Flash a card' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Which board will the card boot?');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(800);
    const next = await page.getByRole('button', { name: 'Next' }).boundingBox();
    expect(next && next.y + next.height).toBeLessThanOrEqual(600);
    await shot('09-board-800x600');
    expect(session.pageErrors).toEqual([]);
  });
});
