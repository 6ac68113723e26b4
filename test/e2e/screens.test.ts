/**
 * Every screen in Chromium against the real engine, in light and dark, at 800×600 and 1280×800,
 * in English, German and French: each is screenshotted into test-artifacts/e2e/screens/ and checked with
 * axe-core (no serious or critical violation). At every size the header stays one line, nothing
 * scrolls sideways, and the Flash button sits inside the window above nothing (issue 15, bug 8).
 * One real flash per combination (a 4 MiB image onto a loop device) reaches the Done screen.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { attachLoop, createSparseFile, detachLoop } from '../helpers/loop';
import { describeWith } from '../helpers/needs';
import { CHROMIUM, openSession, ROOT, type Session } from './harness';

// Callbacks given to page.evaluate run in the browser; these declarations type them.
interface AxeResult {
  readonly violations: readonly { readonly id: string; readonly impact: string | null; readonly help: string; readonly nodes: readonly { readonly target: readonly string[] }[] }[];
}
declare const axe: { run(context: unknown, options: unknown): Promise<AxeResult> };
interface FocusedElement {
  matches(selector: string): boolean;
  closest(selector: string): FocusedElement | null;
}
declare const document: { readonly documentElement: { readonly scrollWidth: number }; readonly activeElement: FocusedElement | null };
declare function getComputedStyle(element: FocusedElement): { readonly outlineStyle: string };
declare const localStorage: { clear(): void; setItem(key: string, value: string): void };
declare const window: { __notes: string[][]; Notification: unknown };

const AXE_SOURCE = readFileSync(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const MiB = 1024 * 1024;
const SIZES = [
  [800, 600],
  [1280, 800],
] as const;
const THEMES = ['light', 'dark'] as const;
const LANGUAGES = ['en', 'de', 'fr'] as const;

describeWith(['root', 'tool:losetup', 'tool:sfdisk', `file:${CHROMIUM}`], 'every screen: look, layout and accessibility', () => {
  let session: Session;
  let dir: string;
  let image: string;
  let card = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cardsmith-e2e-screens-'));
    image = join(dir, 'screens.img');
    writeFileSync(image, Buffer.alloc(4 * MiB));
    execFileSync('sfdisk', ['--quiet', image], { input: 'label: dos\nstart=2048, size=2048, type=c, bootable\nstart=4096, type=83\n' });
    const backing = join(dir, 'card.img');
    createSparseFile(backing, 16 * MiB);
    card = attachLoop(backing);
    session = await openSession('screens', { allowLoop: [card] });
  });

  afterAll(async () => {
    try {
      await session?.close();
    } finally {
      if (card) detachLoop(card);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** axe-core's serious and critical findings on the page as it is now. */
  async function seriousViolations(): Promise<string[]> {
    const { page } = session;
    await page.evaluate(AXE_SOURCE);
    const result = await page.evaluate(() => axe.run(document, { resultTypes: ['violations'] }));
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }

  it('shows every screen in light/dark, 800×600/1280×800, English/German/French with no serious axe finding', async () => {
    const { page, bridge } = session;
    const findings: string[] = [];
    const h1 = page.getByRole('heading', { level: 1 });
    // Chromium headless shows no notifications; this stand-in records what the page asks to show.
    await session.context.addInitScript(() => {
      window.__notes = [];
      window.Notification = class {
        static permission = 'granted';
        constructor(title: string, options: { body: string }) {
          window.__notes.push([title, options.body]);
        }
      };
    });
    for (const [width, height] of SIZES) {
      for (const theme of THEMES) {
        for (const language of LANGUAGES) {
          const tag = `${language}-${theme}-${width}x${height}`;
          await page.setViewportSize({ width, height });
          await page.evaluate(
            ([t, l]) => {
              localStorage.clear();
              localStorage.setItem('cardsmith.settings.v1', JSON.stringify({ theme: t, language: l, eject: false }));
            },
            [theme, language] as const,
          );
          await page.reload();
          let n = 0;
          const screen = async (name: string): Promise<void> => {
            n += 1;
            await page.waitForTimeout(150);
            await session.shot(`${tag}-${String(n).padStart(2, '0')}-${name}`);
            findings.push(...(await seriousViolations()).map((v) => `${tag} ${name}: ${v}`));
            expect(await page.evaluate(() => document.documentElement.scrollWidth), `${tag} ${name} scrolls sideways`).toBeLessThanOrEqual(width);
            const header = await page.locator('.app-header').boundingBox();
            expect(header && header.height, `${tag} ${name}: the header wraps`).toBeLessThanOrEqual(64);
          };
          const next = page.locator('.app-footer button.primary');

          await expect.poll(() => page.locator('.board-list input[type=radio]').count(), { timeout: 30_000 }).toBeGreaterThan(10);
          await screen('board');
          await page.locator('.board-list input[type=radio]').first().check();
          await next.click();
          await expect.poll(() => page.locator('.image-page [role=tabpanel] p, .image-page .catalog-list').count(), { timeout: 30_000 }).toBeGreaterThan(0);
          await screen('catalog');
          await page.locator('#tab-file').click();
          bridge.setChosenFile(image);
          await page.locator('.drop-zone button').click();
          await expect.poll(() => page.locator('dl.facts').count(), { timeout: 30_000 }).toBe(1);
          await screen('image');
          await next.click();
          const radio = page.locator(`input[name=drive][value="${card}"]`);
          await expect.poll(() => radio.count(), { timeout: 15_000 }).toBe(1);
          await radio.check();
          await screen('card');
          await next.click();
          await expect.poll(() => page.locator('.layout-picture').count(), { timeout: 30_000 }).toBeGreaterThan(0);
          await screen('review');
          // Bug 8: the Flash button is fully inside the window, and nothing covers it.
          const flash = await next.boundingBox();
          expect(flash && flash.y + flash.height, `${tag}: Flash below the window`).toBeLessThanOrEqual(height);
          const footer = await page.locator('.app-footer').boundingBox();
          const content = await page.locator('.content').boundingBox();
          expect(footer && flash && flash.y >= footer.y && flash.y + flash.height <= footer.y + footer.height, `${tag}: Flash is not in the footer`).toBe(true);
          expect(footer && content && content.y + content.height <= footer.y + 1, `${tag}: the page runs under the footer`).toBe(true);
          await next.click();
          await expect.poll(() => page.locator('.done-page').count(), { timeout: 120_000 }).toBe(1);
          await screen('done');
          expect((await page.evaluate(() => window.__notes)).length, `${tag}: no notification`).toBe(1);
          await page.locator('.app-header nav button').nth(1).click();
          await expect.poll(() => page.locator('.verify-page').count()).toBe(1);
          await screen('verify');
          await page.locator('.app-header nav button').nth(2).click();
          await expect.poll(() => page.locator('.inspect-page').count()).toBe(1);
          await screen('inspect');
          await page.locator('.app-header nav button').nth(3).click();
          await expect.poll(() => page.locator('.settings-page').count()).toBe(1);
          await screen('settings');
          expect(await h1.count()).toBe(1);
        }
      }
    }
    expect(findings).toEqual([]);
    expect(session.pageErrors).toEqual([]);
  });

  it('flashes a card with the keyboard alone, the focus always visible', async () => {
    const { page, bridge } = session;
    await page.setViewportSize({ width: 1024, height: 720 });
    await page.evaluate(() => {
      localStorage.clear();
      localStorage.setItem('cardsmith.settings.v1', JSON.stringify({ theme: 'light', language: 'en', eject: false }));
    });
    await page.reload();
    await expect.poll(() => page.locator('.board-list input[type=radio]').count(), { timeout: 30_000 }).toBeGreaterThan(10);
    /** Presses Tab until the focus is on `selector`, and checks that a ring shows where it is. */
    const tabTo = async (selector: string): Promise<void> => {
      for (let i = 0; i < 80; i += 1) {
        await page.keyboard.press('Tab');
        if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) {
          // A radio's ring is drawn on its choice row (:has(:focus-visible)); anything else carries its own.
          const ring = await page.evaluate(() => {
            const el = document.activeElement;
            return el ? getComputedStyle(el.closest('.choice') ?? el).outlineStyle !== 'none' : false;
          });
          expect(ring, `no visible focus on ${selector}`).toBe(true);
          return;
        }
      }
      throw new Error(`Tab never reached ${selector}`);
    };
    const heading = (): Promise<string | null> => page.getByRole('heading', { level: 1 }).textContent();
    await tabTo('input[name=board]');
    await page.keyboard.press('Space');
    await tabTo('.app-footer button.primary');
    await page.keyboard.press('Enter');
    await expect.poll(heading).toBe('What should go on the card?');
    await tabTo('[role=tab][aria-selected=true]');
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.locator('#tab-file').getAttribute('aria-selected')).toBe('true');
    bridge.setChosenFile(image);
    await tabTo('.drop-zone button');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('dl.facts').count(), { timeout: 30_000 }).toBe(1);
    await tabTo('.app-footer button.primary');
    await page.keyboard.press('Enter');
    await expect.poll(heading).toBe('Which card should be written?');
    await expect.poll(() => page.locator(`input[name=drive][value="${card}"]`).isChecked(), { timeout: 15_000 }).toBe(true);
    await tabTo('.app-footer button.primary');
    await page.keyboard.press('Enter');
    await expect.poll(heading).toBe('Check before writing');
    await tabTo('.app-footer button.primary');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.done-page').count(), { timeout: 120_000 }).toBe(1);
    await session.shot('keyboard-done');
    expect(await page.getByText('Verified: the card matches the image.').count()).toBe(1);
  });
});
