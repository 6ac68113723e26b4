/**
 * The app's promise in Chromium, against the real engine through the test bridge and real loop
 * devices: build an image from a rootfs and flash it in one click, flash a local .xz image, both
 * verified; a card corrupted afterwards shows the failed range; cancel stops a running flash.
 * The loop devices' bytes are compared with the images, so the UI's "verified" is not taken on faith.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fixturePath } from '../helpers/fixtures';
import { attachLoop, createSparseFile, detachLoop } from '../helpers/loop';
import { describeWith } from '../helpers/needs';
import { CHROMIUM, openSession, type Session } from './harness';
import { sha256OfRange } from '../helpers/bytes';

const MiB = 1024 * 1024;
const ROCK64_LOADER = fixturePath('u-boot-rockchip_arm64', 'usr/lib/u-boot/rock64-rk3328');
const KERNEL = '6.1.0-50-arm64';


/** A tiny Debian-shaped rootfs: kernel, initrd and the ROCK64 device tree where Debian puts them. */
function makeRootfs(dir: string): string {
  const root = join(dir, 'root');
  const put = (path: string, data: Buffer | string): void => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), data);
  };
  put(`boot/vmlinuz-${KERNEL}`, randomBytes(300_000));
  put(`boot/initrd.img-${KERNEL}`, randomBytes(100_000));
  put(`usr/lib/linux-image-${KERNEL}/rockchip/rk3328-rock64.dtb`, randomBytes(20_000));
  put('etc/hostname', 'cardsmith\n');
  const tarball = join(dir, 'rootfs.tar.gz');
  execFileSync('tar', ['--numeric-owner', '-czf', tarball, '-C', root, '.']);
  return tarball;
}

/** A 24 MiB MBR image with random partition contents, compressed with xz. */
function makeXzImage(dir: string): { raw: string; xz: string; size: number } {
  const raw = join(dir, 'local.img');
  const size = 24 * MiB;
  writeFileSync(raw, Buffer.alloc(size));
  execFileSync('sfdisk', ['--quiet', raw], { input: 'label: dos\nstart=2048, type=83\n' });
  const fd = openSync(raw, 'r+');
  try {
    writeSync(fd, randomBytes(size - MiB), 0, size - MiB, MiB);
  } finally {
    closeSync(fd);
  }
  execFileSync('xz', ['-T0', '-0', '-k', raw]);
  return { raw, xz: `${raw}.xz`, size };
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describeWith(['root', 'tool:losetup', 'tool:sfdisk', 'tool:xz', `file:${CHROMIUM}`, `file:${ROCK64_LOADER}`], 'flash through the UI onto loop devices', () => {
  let session: Session;
  let dir: string;
  const loops: string[] = [];
  let card = '';

  const heading = (): Promise<string | null> => session.page.getByRole('heading', { level: 1 }).textContent();

  async function pickCard(device: string): Promise<void> {
    const { page } = session;
    await expect.poll(heading).toBe('Which card should be written?');
    const radio = page.getByRole('radio', { name: new RegExp(`${escape(device)} ·`) });
    await expect.poll(() => radio.count(), { timeout: 15_000 }).toBe(1);
    await radio.check();
  }

  async function flashFromReview(shotName: string): Promise<void> {
    const { page } = session;
    await expect.poll(heading).toBe('Check before writing');
    await page.getByRole('checkbox', { name: 'Eject when done' }).setChecked(false);
    await session.shot(shotName);
    await page.getByRole('button', { name: 'Flash the card' }).click();
  }

  /** Waits until the flash ends on Done; a failed or cancelled job fails the test with the error shown. */
  async function waitForDone(): Promise<void> {
    const { page } = session;
    await expect
      .poll(async () => ((await heading()) === 'The card is ready' ? 'done' : await page.locator('.job-view').getAttribute('data-job-status').catch(() => null)), {
        timeout: 240_000,
      })
      .not.toBe('running');
    if ((await heading()) !== 'The card is ready') {
      throw new Error(`flash ended without Done: ${await page.locator('.content').innerText()}`);
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cardsmith-e2e-flash-'));
    const backing = join(dir, 'card.img');
    createSparseFile(backing, 128 * MiB);
    card = attachLoop(backing);
    loops.push(card);
    session = await openSession('flash', { allowLoop: true });
  });

  afterAll(async () => {
    try {
      await session?.close();
    } finally {
      for (const loop of loops) detachLoop(loop);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds an image from a rootfs for ROCK64, root filling the card, and flashes it in one click, verified', async () => {
    const { page, shot, bridge } = session;
    const rootfs = makeRootfs(dir);
    await page.getByLabel('Search boards').fill('rock64');
    await page.getByRole('radio', { name: /^ROCK64/ }).check();
    await shot('01-board');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('tab', { name: 'Build from rootfs' }).click();
    await page.getByLabel('Rootfs tarball or folder').fill(rootfs);
    await page.getByLabel(/^Loader files/).fill(ROCK64_LOADER);
    await page.getByRole('radio', { name: 'Fill the card' }).check();
    await page.getByRole('button', { name: 'Use this rootfs' }).click();
    await expect.poll(() => page.getByText(`Chosen image: ${rootfs}`).count()).toBe(1);
    await shot('02-image-rootfs');
    await page.getByRole('button', { name: 'Next' }).click();
    await pickCard(card);
    await shot('03-card');
    await page.getByRole('button', { name: 'Next' }).click();
    // Review plans the build first and draws the card it will make (the new card is blank): the
    // root partition runs to the card's end (128 MiB).
    await expect.poll(() => page.locator('.layout-legend li', { hasText: /^Partition “rootfs” — / }).count(), { timeout: 30_000 }).toBe(1);
    expect(await page.locator('.layout-legend li', { hasText: /^Partition “rootfs” — .* to 128 MiB$/ }).count()).toBe(1);
    expect(await page.locator('.layout-legend li', { hasText: 'Partition “rootfs”' }).locator('abbr').getAttribute('title')).toMatch(/ – 0x8000000$/);
    expect(await page.locator('.layout-legend li', { hasText: /^Partition “BOOT” — / }).count()).toBe(1);
    await flashFromReview('04-review-built');
    await waitForDone();
    await shot('05-done-built');
    expect(await page.getByText('Verified: the card matches the image.').count()).toBe(1);
    const logLine = (await page.locator('.done-page p', { hasText: 'Log file:' }).innerText()).trim();
    const logFile = /^Log file: (\/.+?)\s*Open log$/.exec(logLine)?.[1];
    expect(logFile && existsSync(logFile)).toBe(true);
    await page.getByRole('button', { name: 'Open log' }).click();
    await expect.poll(() => bridge.shownItems).toEqual([logFile]);

    // One engine job built the image at the card's size and wrote it; the renderer named no output file.
    expect(bridge.requests.filter((r) => ['build', 'fetch'].includes((r as { op?: string }).op ?? ''))).toEqual([]);
    const flash = bridge.requests.find((r) => (r as { op?: string }).op === 'flash') as Record<string, unknown>;
    expect(flash).toMatchObject({ build: { board: 'rock64', rootfs, loaderFrom: ROCK64_LOADER, rootSize: { mode: 'fill' } }, device: card, allowLoop: true });
    expect(flash).not.toHaveProperty('source');
    const table = JSON.parse(execFileSync('sfdisk', ['--json', card], { encoding: 'utf8' })) as { partitiontable: { partitions: { start: number; size: number }[] } };
    const root = table.partitiontable.partitions[1]!;
    expect((root.start + root.size) * 512).toBe(128 * MiB);
    // The built image was the job's temporary file: there is nothing to verify the card against again.
    expect(await page.getByRole('button', { name: 'Verify again' }).count()).toBe(0);

    await page.getByRole('button', { name: 'Inspect a card' }).click();
    await page.getByLabel('Card or image file').fill(card);
    await page.getByRole('button', { name: 'Inspect', exact: true }).click();
    await expect.poll(() => page.locator('.layout-bar .segment-partition').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await shot('07-inspect-card');
  });

  it('flashes a local .xz image, and a card corrupted afterwards shows the failed range', async () => {
    const { page, shot, bridge } = session;
    const image = makeXzImage(dir);
    // This run happens at the smallest supported window size; no step may scroll sideways.
    await page.setViewportSize({ width: 800, height: 600 });
    await page.getByRole('button', { name: 'Flash a card' }).click();
    await page.getByRole('radio', { name: /Generic — no bootloader/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('tab', { name: 'Local file' }).click();
    bridge.setChosenFile(image.xz);
    await page.getByRole('button', { name: 'Choose image file…' }).click();
    await expect.poll(() => page.getByText(`Chosen image: ${image.xz}`).count()).toBe(1);
    await shot('08-image-xz');
    await page.getByRole('button', { name: 'Next' }).click();
    await pickCard(card);
    await page.getByRole('button', { name: 'Next' }).click();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(800);
    await flashFromReview('09-review-xz-800x600');
    await waitForDone();
    expect(await page.getByText('Verified: the card matches the image.').count()).toBe(1);
    await shot('10-done-xz-800x600');
    expect(sha256OfRange(card, image.size)).toBe(sha256OfRange(image.raw, image.size));

    const badStart = 5 * MiB + 12_288;
    const fd = openSync(card, 'r+');
    try {
      const original = Buffer.alloc(4096);
      readSync(fd, original, 0, 4096, badStart);
      writeSync(fd, original.map((b) => b ^ 0xff), 0, 4096, badStart);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    await page.getByRole('button', { name: 'Verify a card' }).click();
    await page.getByLabel('Image', { exact: true }).fill(image.xz);
    await page.getByLabel('Card', { exact: true }).selectOption(card);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    const ranges = page.locator('.verify-mismatch li');
    await expect.poll(() => ranges.count(), { timeout: 60_000 }).toBeGreaterThan(0);
    // Every byte of the 4 KiB was inverted, so the damage is exactly one range.
    const shown = await ranges.evaluateAll((items) => items.map((li) => [Number(li.getAttribute('data-start')), Number(li.getAttribute('data-end'))]));
    expect(shown).toEqual([[badStart, badStart + 4096]]);
    expect(await page.getByText(`Bytes ${Math.floor(badStart / 1024)} KiB`).count()).toBeGreaterThan(0);
    expect(await page.getByText('The card differs from the image.').count()).toBe(1);
    await shot('11-verify-corrupted-800x600');
    await page.setViewportSize({ width: 1024, height: 720 });
  });

  it('cancels a running flash and says the card is incomplete', async () => {
    const { page, shot, bridge } = session;
    const flashesBefore = bridge.requests.filter((r) => (r as { op?: string }).op === 'flash').length;
    const big = join(dir, 'big.img');
    createSparseFile(big, 4096 * MiB);
    const backing = join(dir, 'big-card.img');
    createSparseFile(backing, 4097 * MiB);
    const bigCard = attachLoop(backing);
    loops.push(bigCard);
    await page.getByRole('button', { name: 'Flash a card' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('tab', { name: 'Local file' }).click();
    bridge.setChosenFile(big);
    await page.getByRole('button', { name: 'Choose image file…' }).click();
    await expect.poll(() => page.getByText(`Chosen image: ${big}`).count()).toBe(1);
    await page.getByRole('button', { name: 'Next' }).click();
    await pickCard(bigCard);
    await page.getByRole('button', { name: 'Next' }).click();
    await flashFromReview('12-review-big');
    const write = page.locator('.phase-row[data-phase="write"]');
    await expect.poll(() => write.getAttribute('data-status'), { timeout: 60_000 }).toBe('running');
    await shot('13-flash-progress');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.locator('.job-view').getAttribute('data-job-status'), { timeout: 60_000 }).toBe('cancelled');
    expect(await page.getByText(/Cancelled\. The card is incomplete/).count()).toBe(1);
    await shot('14-cancelled');
    expect(bridge.requests.filter((r) => (r as { op?: string }).op === 'flash').length).toBe(flashesBefore + 1);
    const head = Buffer.alloc(MiB);
    const fd = openSync(bigCard, 'r');
    try {
      readSync(fd, head, 0, MiB, 0);
    } finally {
      closeSync(fd);
    }
    expect(head.every((b) => b === 0)).toBe(true);
  });
});
