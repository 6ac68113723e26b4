/**
 * Several cards from the Card step in Chromium, against the real engine and two real loop
 * devices: one `flashMany` request writes both, the Done step lists each as written and verified,
 * and both cards' bytes equal the image.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sha256OfRange } from '../helpers/bytes';
import { attachLoop, createSparseFile, detachLoop } from '../helpers/loop';
import { chooseGenericLocalImage, writeCardImage } from '../helpers/e2e-cards';
import { describeWith } from '../helpers/needs';
import { CHROMIUM, openSession, type Session } from './harness';

const MiB = 1024 * 1024;
const IMAGE_BYTES = 8 * MiB;

describeWith(['root', 'tool:losetup', 'tool:sfdisk', `file:${CHROMIUM}`], 'several cards in one flashMany job', () => {
  let session: Session;
  let dir: string;
  let image: string;
  const cards: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cardsmith-e2e-several-'));
    image = join(dir, 'several.img');
    writeCardImage(image, IMAGE_BYTES);
    for (const name of ['a.img', 'b.img']) {
      const backing = join(dir, name);
      createSparseFile(backing, 16 * MiB);
      cards.push(attachLoop(backing));
    }
    session = await openSession('station-several', { allowLoop: cards });
  });

  afterAll(async () => {
    try {
      await session?.close();
    } finally {
      for (const card of cards) detachLoop(card);
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes and verifies two loop cards in one request and lists each outcome', async () => {
    const { page, shot, bridge } = session;
    const h1 = (): Promise<string | null> => page.getByRole('heading', { level: 1 }).textContent();
    await chooseGenericLocalImage(session, image);
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(h1).toBe('Which card should be written?');
    await page.getByRole('checkbox', { name: 'Several cards at once' }).check();
    for (const card of cards) {
      const box = page.getByRole('checkbox', { name: new RegExp(`${card.replace(/[/]/g, '\\/')} ·`) });
      await expect.poll(() => box.count(), { timeout: 15_000 }).toBe(1);
      await box.check();
    }
    await shot('01-two-cards');
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(h1).toBe('Check before writing');
    await page.getByRole('checkbox', { name: 'Eject when done' }).setChecked(false);
    await shot('02-review');
    await page.getByRole('button', { name: 'Flash the cards' }).click();
    await expect.poll(h1, { timeout: 120_000 }).toBe('The cards are written');
    await shot('03-done');
    for (const card of cards) expect(await page.locator(`.many-outcomes li[data-device="${card}"]`).getAttribute('data-ok')).toBe('true');
    const requests = bridge.requests.filter((r) => (r as { op?: string }).op === 'flashMany') as { devices: string[]; allowLoop: boolean }[];
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ devices: cards, allowLoop: true });
    expect(bridge.requests.some((r) => (r as { op?: string }).op === 'flash')).toBe(false);
    const imageHash = sha256OfRange(image, IMAGE_BYTES);
    for (const card of cards) expect(sha256OfRange(card, IMAGE_BYTES)).toBe(imageHash);
    expect(session.pageErrors).toEqual([]);
  });
});
