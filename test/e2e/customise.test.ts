/**
 * Issue 16's GUI path proven by a real flash, in Chromium against the real engine through the
 * test bridge: settings typed into the Customise step are saved as the default preset "lab" in
 * Settings, the next flash accepts "Use preset 'lab'?", Review lists the first-boot files the
 * engine will write, and a Raspberry Pi OS–style image goes onto a loop device. The card is then
 * read with the OS's own tools — mtools, fsck.fat, OpenSSL — not with Cardsmith.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FIRSTRUN_HOOK } from '../../electron/engine/customise/firstboot/firstrun';
import { readBytesAt } from '../helpers/bytes';
import { fixturePath } from '../helpers/fixtures';
import { attachLoop, createSparseFile, detachLoop } from '../helpers/loop';
import { describeWith } from '../helpers/needs';
import { MTOOLS_ENV, RASPIOS, writeRaspiosImage } from '../helpers/raspios-image';
import { makeDebianRootfs } from '../unit/customise/rootfs-fixture';
import { CHROMIUM, ROOT, openSession, type Session } from './harness';

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
}
declare const axe: { run(context: unknown, options: unknown): Promise<AxeResult> };
declare const document: unknown;

const AXE_SOURCE = readFileSync(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const MiB = 1024 * 1024;
const { bootStart: BOOT_START, bootSize: BOOT_SIZE, rootStart: ROOT_START, rootSize: ROOT_SIZE, cmdline: CMDLINE } = RASPIOS;
const PASSWORD = 'correct horse battery';
const PASSPHRASE = 'lab-wifi-passphrase';
const env = MTOOLS_ENV;
const ROCK64_LOADER = fixturePath('u-boot-rockchip_arm64', 'usr/lib/u-boot/rock64-rk3328');
const KERNEL = '6.1.0-50-arm64';

/** MBR, a FAT32 boot partition with cmdline.txt and config.txt (as Raspberry Pi OS ships), an ext4 root. */
function raspiosImage(dir: string): string {
  return writeRaspiosImage(join(dir, 'raspios-style.img'), [
    ['cmdline.txt', `${CMDLINE}\n`],
    ['config.txt', '[all]\narm_64bit=1\n'],
  ]);
}

/** A Debian-like rootfs (accounts, sshd, NetworkManager, tzdata) with ROCK64's kernel, initrd and device tree, as a tarball. */
function rock64Rootfs(dir: string): string {
  const root = join(dir, 'rootfs');
  makeDebianRootfs(root);
  const put = (path: string, bytes: number): void => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), Buffer.alloc(bytes, 7));
  };
  put(`boot/vmlinuz-${KERNEL}`, 300_000);
  put(`boot/initrd.img-${KERNEL}`, 100_000);
  put(`usr/lib/linux-image-${KERNEL}/rockchip/rk3328-rock64.dtb`, 20_000);
  const tarball = join(dir, 'rootfs.tar.gz');
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-czf', tarball, '-C', root, '.']);
  return tarball;
}

/** A partition of the card copied out to a file, for e2fsck and debugfs. */
function partitionOf(device: string, index: number, out: string): string {
  const table = JSON.parse(execFileSync('sfdisk', ['--json', device]).toString()) as { partitiontable: { partitions: { start: number; size: number }[] } };
  const part = table.partitiontable.partitions[index - 1]!;
  writeFileSync(out, readBytesAt(device, part.start * 512, part.size * 512));
  return out;
}

function debugfsStat(fs: string, path: string): { type: string; mode: number; uid: number } {
  const out = execFileSync('debugfs', ['-R', `stat "${path}"`, fs], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const m = /Type: (\S+)\s+Mode:\s+(\d+)/.exec(out);
  const owner = /User:\s+(\d+)/.exec(out);
  if (!m || !owner) throw new Error(`debugfs cannot stat ${path}: ${out}`);
  return { type: m[1]!, mode: parseInt(m[2]!, 8), uid: Number(owner[1]) };
}
const debugfsCat = (fs: string, path: string): string => execFileSync('debugfs', ['-R', `cat "${path}"`, fs], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

describeWith(
  ['root', 'tool:losetup', 'tool:sfdisk', 'tool:mkfs.fat', 'tool:mkfs.ext4', 'tool:mcopy', 'tool:fsck.fat', 'tool:ssh-keygen', 'tool:openssl', 'tool:tar', 'tool:debugfs', 'tool:e2fsck', `file:${CHROMIUM}`],
  'customise through the app: a preset, a real flash, the card read back',
  () => {
    let session: Session;
    let dir: string;
    let image: string;
    let key: string;
    let card = '';
    const savedCache = process.env.CARDSMITH_CACHE;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cardsmith-e2e-customise-'));
      image = raspiosImage(dir);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ada@laptop', '-f', join(dir, 'id')]);
      key = readFileSync(join(dir, 'id.pub'), 'utf8').trim();
      // Presets live in the cache folder: this run's own.
      process.env.CARDSMITH_CACHE = join(dir, 'cache');
      const backing = join(dir, 'card.img');
      createSparseFile(backing, 128 * MiB);
      card = attachLoop(backing);
      session = await openSession('customise', { allowLoop: [card] });
    });

    afterAll(async () => {
      try {
        await session?.close();
      } finally {
        if (card) detachLoop(card);
        if (savedCache === undefined) delete process.env.CARDSMITH_CACHE;
        else process.env.CARDSMITH_CACHE = savedCache;
        rmSync(dir, { recursive: true, force: true });
      }
    });

    const heading = (): Promise<string | null> => session.page.getByRole('heading', { level: 1 }).textContent();

    async function seriousViolations(): Promise<string[]> {
      const { page } = session;
      await page.evaluate(AXE_SOURCE);
      const result = await page.evaluate(() => axe.run(document, { resultTypes: ['violations'] }));
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    }

    /** Waits until the flash ends on Done; a failed or cancelled job fails the test with the error shown. */
    async function flashAndWait(shotName: string): Promise<void> {
      const { page } = session;
      await page.getByRole('checkbox', { name: 'Eject when done' }).setChecked(false);
      await page.getByRole('button', { name: 'Flash the card' }).click();
      await expect
        .poll(async () => ((await heading()) === 'The card is ready' ? 'done' : await page.locator('.job-view').getAttribute('data-job-status').catch(() => null)), { timeout: 240_000 })
        .not.toBe('running');
      await session.shot(shotName);
      if ((await heading()) !== 'The card is ready') throw new Error(`flash ended without Done: ${await page.locator('.content').innerText()}`);
      expect(await page.getByText('Verified: the card matches the image.').count()).toBe(1);
    }

    /** The files Review says the customisation writes, once the engine has answered. */
    async function listedFiles(): Promise<string[]> {
      const items = session.page.locator('.customise-writes li');
      await expect.poll(() => items.count(), { timeout: 30_000 }).toBeGreaterThan(0);
      return items.allInnerTexts();
    }

    it('saves a preset "lab", flashes an image accepting "Use preset \'lab\'?", and the card carries the settings', async () => {
      const { page, shot, bridge } = session;
      const next = page.getByRole('button', { name: 'Next' });

      // Generic board, the local image; no preset yet, so Next passes over Customise.
      await expect.poll(heading).toBe('Which board will the card boot?');
      await page.getByRole('radio', { name: /Generic — no bootloader/ }).check();
      await next.click();
      await page.getByRole('tab', { name: 'Local file' }).click();
      bridge.setChosenFile(image);
      await page.getByRole('button', { name: 'Choose image file…' }).click();
      await expect.poll(() => page.getByText(`Chosen image: ${image}`).count()).toBe(1);
      await expect.poll(() => next.isEnabled(), { timeout: 30_000 }).toBe(true);
      await next.click();
      await expect.poll(heading).toBe('Which card should be written?');
      const radio = page.getByRole('radio', { name: new RegExp(`${card.replace(/[/]/g, '\\/')} ·`) });
      await expect.poll(() => radio.count(), { timeout: 15_000 }).toBe(1);
      await radio.check();
      await next.click();
      await expect.poll(heading).toBe('Check before writing');

      // The settings, typed by hand once.
      await page.getByRole('button', { name: 'Customise …' }).click();
      await expect.poll(heading).toBe('Customise the system');
      expect(await seriousViolations()).toEqual([]);
      await page.getByLabel('Host name').fill('lab-pi-7');
      await page.getByLabel('User name').fill('ada');
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByLabel('SSH public keys, one per line').fill(key);
      await page.getByLabel('Network name (SSID)').fill('Lab net');
      await page.getByLabel('Passphrase').fill(PASSPHRASE);
      await page.getByLabel('Country (e.g. GB)').fill('GB');
      await page.getByLabel('Time zone (e.g. Europe/London)').fill('Europe/London');
      await shot('01-customise-typed-en');
      await page.getByRole('button', { name: 'Use these settings' }).click();
      await expect.poll(heading, { timeout: 30_000 }).toBe('Check before writing');

      // Saved in Settings as the default preset "lab".
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.getByLabel('Preset name').fill('lab');
      await page.getByRole('checkbox', { name: 'Offer it at each flash (default)' }).check();
      await page.getByRole('button', { name: 'Save the current customisation' }).click();
      await expect.poll(() => page.getByRole('radio', { name: 'lab' }).isChecked(), { timeout: 15_000 }).toBe(true);
      await shot('02-settings-preset-lab');

      // The next flash: nothing chosen, so the Customise step stops to offer the preset.
      await page.getByRole('button', { name: 'Flash a card' }).click();
      await next.click();
      await next.click();
      await expect.poll(heading).toBe('Customise the system');
      await page.getByRole('button', { name: 'No customisation' }).click();
      await expect.poll(heading).toBe('Check before writing');
      await page.getByRole('button', { name: 'Customise …' }).click();
      await expect.poll(() => page.getByText("Use preset 'lab'?").count()).toBe(1);
      expect(await seriousViolations()).toEqual([]);
      await page.getByRole('button', { name: 'Use preset' }).click();
      await expect.poll(() => page.getByLabel('Host name').inputValue()).toBe('lab-pi-7');
      await shot('03-customise-preset-en');
      await page.getByRole('button', { name: 'Use these settings' }).click();
      await expect.poll(heading, { timeout: 30_000 }).toBe('Check before writing');
      expect(await listedFiles()).toEqual(['firstrun.sh', 'cmdline.txt']);
      expect(await page.getByText(`Put into the boot partition (at byte ${BOOT_START}) for a first-boot script run by systemd:`).count()).toBe(1);
      await shot('04-review-en');

      // The same two screens in German.
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.locator('#settings-language').selectOption('de');
      await page.getByRole('button', { name: 'Karte beschreiben' }).click();
      const weiter = page.getByRole('button', { name: 'Weiter' });
      await weiter.click();
      await weiter.click();
      await expect.poll(heading).toBe('System anpassen');
      await shot('05-customise-de');
      await page.getByRole('button', { name: 'Diese Einstellungen verwenden' }).click();
      await expect.poll(() => page.getByText(`Kommt in die Boot-Partition (ab Byte ${BOOT_START}), für ein Erststart-Skript, das systemd ausführt:`).count(), { timeout: 30_000 }).toBe(1);
      await shot('06-review-de');
      await page.getByRole('button', { name: 'Einstellungen' }).click();
      await page.locator('#settings-language').selectOption('en');
      await page.getByRole('button', { name: 'Flash a card' }).click();
      await next.click();
      await next.click();
      await page.getByRole('button', { name: 'Use these settings' }).click();
      await expect.poll(heading, { timeout: 30_000 }).toBe('Check before writing');
      expect(await listedFiles()).toEqual(['firstrun.sh', 'cmdline.txt']);

      await flashAndWait('07-done');

      // What went to the engine: hashes and the derived key, never the typed secrets.
      const flash = bridge.requests.findLast((r) => (r as { op?: string }).op === 'flash') as { device: string; customise?: { hostname?: string; user?: { name: string; passwordHash?: string } } };
      expect(flash).toMatchObject({ device: card, customise: { hostname: 'lab-pi-7', user: { name: 'ada' } } });
      expect(JSON.stringify(bridge.requests)).not.toContain(PASSWORD);
      expect(JSON.stringify(bridge.requests)).not.toContain(PASSPHRASE);

      // The card, read with mtools straight from the loop device at the boot partition's offset.
      const mtype = (path: string): string => execFileSync('mcopy', ['-i', `${card}@@${BOOT_START}`, '-n', `::${path}`, '-'], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
      const script = mtype('firstrun.sh');
      expect(script).toContain("set_hostname 'lab-pi-7'");
      expect(script).toContain("useradd -m -s /bin/bash 'ada'");
      expect(script).toContain(key);
      expect(script).toContain("set_timezone 'Europe/London'");
      const hash = /userconf 'ada' '(\$6\$[^']+)'/.exec(script)?.[1] ?? '';
      // The password typed in the page, hashed there: OpenSSL's sha512-crypt agrees.
      expect(execFileSync('openssl', ['passwd', '-6', '-salt', hash.split('$')[2]!, '-stdin'], { input: PASSWORD }).toString().trim()).toBe(hash);
      expect(mtype('cmdline.txt')).toBe(`${CMDLINE}${FIRSTRUN_HOOK}\n`);
      const boot = join(dir, 'card-boot.vfat');
      writeFileSync(boot, readBytesAt(card, BOOT_START, BOOT_SIZE));
      const fsck = spawnSync('fsck.fat', ['-n', boot], { encoding: 'utf8' });
      expect(fsck.status, `${fsck.stdout}${fsck.stderr}`).toBe(0);
      // The root partition is the image's, byte for byte.
      expect(readBytesAt(card, ROOT_START, ROOT_SIZE).equals(readBytesAt(image, ROOT_START, ROOT_SIZE))).toBe(true);
      expect(session.pageErrors).toEqual([]);
    });

    it.skipIf(!existsSync(ROCK64_LOADER))('builds a ROCK64 card with the Customise step filled by hand: Review lists the files, debugfs finds them on the card', async () => {
      const { page, shot, bridge } = session;
      const next = page.getByRole('button', { name: 'Next' });
      const rootfs = rock64Rootfs(dir);
      await page.getByRole('button', { name: 'Flash a card' }).click();
      await page.getByLabel('Search boards').fill('rock64');
      await page.getByRole('radio', { name: /^ROCK64/ }).check();
      await next.click();
      await page.getByRole('tab', { name: 'Build from rootfs' }).click();
      await page.getByLabel('Rootfs tarball or folder').fill(rootfs);
      await page.getByLabel(/^Loader files/).fill(ROCK64_LOADER);
      await page.getByRole('radio', { name: 'Fill the card' }).check();
      await page.getByRole('button', { name: 'Use this rootfs' }).click();
      await expect.poll(() => page.getByText(`Chosen image: ${rootfs}`).count()).toBe(1);
      // The preset chosen for the last flash is still the choice, so Next stops at Customise.
      await next.click();
      await expect.poll(heading).toBe('Customise the system');
      await page.getByLabel('Host name').fill('rock-1');
      await page.getByLabel('User name').fill('bob');
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByLabel('SSH public keys, one per line').fill(key);
      await page.getByLabel('Network name (SSID)').fill('');
      await page.getByLabel('Country (e.g. GB)').fill('');
      await page.getByRole('button', { name: 'Use these settings' }).click();
      await expect.poll(heading, { timeout: 30_000 }).toBe('Check before writing');
      await expect.poll(() => page.getByText('Written into the root filesystem:').count(), { timeout: 60_000 }).toBe(1);
      const listed = await listedFiles();
      for (const path of ['/etc/hostname', '/etc/passwd', '/etc/shadow', '/home/bob/.ssh/authorized_keys', '/etc/localtime']) expect(listed).toContain(path);
      expect(listed.some((path) => path.includes('NetworkManager'))).toBe(false);
      await shot('08-review-built-en');
      await flashAndWait('09-done-built');

      // Build-then-flash is one engine job: the flash request carries the recipe.
      const flash = bridge.requests.findLast((r) => (r as { op?: string }).op === 'flash') as { build?: { board: string; customise?: { hostname?: string } } };
      expect(flash.build).toMatchObject({ board: 'rock64', customise: { hostname: 'rock-1', user: { name: 'bob' } } });
      const fs = partitionOf(card, 2, join(dir, 'card-root.ext4'));
      const fsck = spawnSync('e2fsck', ['-fn', fs], { encoding: 'utf8' });
      expect(fsck.status, `${fsck.stdout}${fsck.stderr}`).toBe(0);
      expect(debugfsCat(fs, '/etc/hostname')).toBe('rock-1\n');
      const bob = /^bob:x:(\d+):/m.exec(debugfsCat(fs, '/etc/passwd'));
      expect(bob).not.toBeNull();
      expect(debugfsStat(fs, '/home/bob/.ssh/authorized_keys')).toEqual({ type: 'regular', mode: 0o600, uid: Number(bob![1]) });
      expect(debugfsCat(fs, '/home/bob/.ssh/authorized_keys')).toBe(`${key}\n`);
      expect(session.pageErrors).toEqual([]);
    });
  },
);
