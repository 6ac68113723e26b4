/**
 * Armbian's first-login preset end to end: an Armbian-like image (MBR, one ext4 partition made by
 * mkfs.ext4 -d from a tree with etc/armbian-release and an empty root/.not_logged_in_yet) flashed
 * to a loop device with settings, through the CLI and from an xz stream. The card's root is judged
 * by e2fsck and debugfs, the preset by bash -n and by sourcing it in bash.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readBytesAt } from '../../helpers/bytes';
import { withLoopDevice } from '../../helpers/loop';
import { writeExt4Image } from '../../helpers/ext4-image';
import { describeWith } from '../../helpers/needs';
import { runCollecting } from '../../helpers/run-request';
import { EVERYTHING, PSK } from '../../unit/customise/settings-fixture';

const MiB = 1 << 20;
const ROOT_START = 4 * MiB;
const ROOT_SIZE = 48 * MiB;
let work = '';
const repo = resolve(__dirname, '../../..');
const cli = (args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [join(repo, 'bin/cardsmith.cjs'), ...args], { encoding: 'utf8', env: { ...process.env } });

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cardsmith-armbian-flash-'));
  process.env.CARDSMITH_LOG_DIR = join(work, 'logs');
  process.env.CARDSMITH_CACHE = join(work, 'cache');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function armbianImage(name: string): string {
  const tree = join(work, `${name}.tree`);
  mkdirSync(join(tree, 'etc'), { recursive: true });
  mkdirSync(join(tree, 'root'), { recursive: true });
  mkdirSync(join(tree, 'usr/lib/armbian'), { recursive: true });
  writeFileSync(join(tree, 'etc/armbian-release'), 'BOARD=orangepi5\nBOARD_NAME="Orange Pi 5"\nVERSION=25.2.1\n');
  writeFileSync(join(tree, 'etc/hostname'), 'orangepi5\n');
  writeFileSync(join(tree, 'etc/hosts'), '127.0.0.1   localhost\n127.0.1.1   orangepi5\n::1         localhost orangepi5 ip6-localhost ip6-loopback\n');
  writeFileSync(join(tree, 'root/.not_logged_in_yet'), '');
  writeFileSync(join(tree, 'usr/lib/armbian/filler'), Buffer.alloc(3 * MiB, 0x5a));
  const image = writeExt4Image(join(work, name), tree, { sizeBytes: ROOT_SIZE, start: ROOT_START, mkfs: ['-L', 'armbi_root'], mbr: true });
  rmSync(tree, { recursive: true });
  return image;
}

/** The card's root partition as a file, for e2fsck and debugfs. */
function rootOf(device: string, name: string): string {
  const path = join(work, name);
  writeFileSync(path, readBytesAt(device, ROOT_START, ROOT_SIZE));
  return path;
}

function e2fsckClean(fs: string): void {
  const check = spawnSync('e2fsck', ['-fn', fs], { encoding: 'utf8' });
  expect(check.stdout + check.stderr).not.toMatch(/fix|wrong|differ|invalid|checksum/i);
  expect(check.status).toBe(0);
}

/** Mounts the filesystem image read-write through a loop device for `body`, then unmounts it. */
function withMounted(fs: string, body: (mnt: string) => void): void {
  const mnt = mkdtempSync(join(work, 'mnt-'));
  execFileSync('mount', ['-o', 'loop', fs, mnt]);
  try {
    body(mnt);
  } finally {
    execFileSync('umount', [mnt]);
  }
}

const debugfs = (fs: string, request: string): string => execFileSync('debugfs', ['-R', request, fs], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 16 * MiB }).toString();
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The variables left by sourcing the preset in bash, as armbian-firstlogin does. */
function sourced(file: string, names: string[]): string[] {
  return execFileSync('bash', ['-c', `set -eu; . "$1"; ${names.map((n) => `printf '%s\\0' "\${${n}-}"`).join('; ')}`, 'bash', file])
    .toString()
    .split('\0')
    .slice(0, names.length);
}

describeWith(['root', 'tool:losetup', 'tool:sfdisk', 'tool:mkfs.ext4', 'tool:e2fsck', 'tool:debugfs', 'tool:xz', 'tool:mount', 'tool:umount'], 'flash an Armbian image with its first-login preset', () => {
  it('the CLI: --hostname/--user/--timezone/--locale/Wi-Fi become PRESET_* lines (0600 root, bash -n clean), the host name files are renamed; e2fsck clean; verified; inspect shows no secret', async () => {
    const image = armbianImage('armbian.img');
    writeFileSync(join(work, 'psk'), 'lab wifi passphrase\n');
    await withLoopDevice({ sizeBytes: 128 * MiB }, async (loop) => {
      const flags = ['--hostname', 'lab-3', '--user', 'ada', '--sudo', '--timezone', 'Europe/Berlin', '--locale', 'de_DE.UTF-8'];
      const wifi = ['--wifi-ssid', "Lab's net", '--wifi-psk-file', join(work, 'psk'), '--wifi-country', 'DE'];
      const flashed = cli(['flash', image, '--device', loop.device, '--allow-loop', '--yes', ...flags, ...wifi]);
      expect(flashed.status, String(flashed.stderr)).toBe(0);
      const log = readFileSync(/log (\S+\.log)/.exec(String(flashed.stderr))![1]!, 'utf8');
      expect(log).toMatch(/first-boot: armbian \(its ext4 root at byte 4194304 has \/etc\/armbian-release and \/root\/\.not_logged_in_yet .*\); wrote \/root\/\.not_logged_in_yet, \/etc\/hostname, \/etc\/hosts/);
      expect(log).toMatch(/verify done: 54525952 bytes identical/);

      const root = rootOf(loop.device, 'cli.root');
      e2fsckClean(root);
      const presetPath = join(work, 'preset');
      writeFileSync(presetPath, debugfs(root, 'cat /root/.not_logged_in_yet'));
      const preset = readFileSync(presetPath, 'utf8');
      expect(preset).toContain("PRESET_USER_NAME='ada'\n");
      expect(preset).toContain("PRESET_TIMEZONE='Europe/Berlin'\n");
      expect(spawnSync('bash', ['-n', presetPath]).status).toBe(0);
      const psk = sourced(presetPath, ['PRESET_NET_WIFI_KEY'])[0]!;
      expect(psk).toMatch(/^[0-9a-f]{64}$/);
      expect(sourced(presetPath, ['PRESET_USER_NAME', 'PRESET_LOCALE', 'SET_LANG_BASED_ON_LOCATION', 'PRESET_TIMEZONE', 'PRESET_NET_WIFI_ENABLED', 'PRESET_NET_WIFI_SSID', 'PRESET_NET_WIFI_COUNTRYCODE'])).toEqual([
        'ada',
        'de_DE.UTF-8',
        'n',
        'Europe/Berlin',
        '1',
        "Lab's net",
        'DE',
      ]);
      const stat = debugfs(root, 'stat /root/.not_logged_in_yet');
      expect(stat).toMatch(/Mode:\s+0600/);
      expect(stat).toMatch(/User:\s+0\s+Group:\s+0/);
      expect(debugfs(root, 'cat /etc/hostname')).toBe('lab-3\n');
      expect(debugfs(root, 'cat /etc/hosts')).toBe('127.0.0.1   localhost\n127.0.1.1   lab-3\n::1         localhost lab-3 ip6-localhost ip6-loopback\n');
      expect(debugfs(root, 'cat /usr/lib/armbian/filler')).toBe(Buffer.alloc(3 * MiB, 0x5a).toString());
      // The kernel as the second oracle: it checks descriptor, inode and directory checksums as it
      // reads, and the block and inode bitmaps when it allocates next to the edited files.
      withMounted(root, (mnt) => {
        expect(readFileSync(join(mnt, 'root/.not_logged_in_yet'), 'utf8')).toBe(preset);
        const info = statSync(join(mnt, 'root/.not_logged_in_yet'));
        expect([info.mode & 0o7777, info.uid, info.gid]).toEqual([0o600, 0, 0]);
        expect(readFileSync(join(mnt, 'etc/hostname'), 'utf8')).toBe('lab-3\n');
        writeFileSync(join(mnt, 'root/after-first-boot'), Buffer.alloc(300_000, 1));
      });
      e2fsckClean(root);

      const inspected = cli(['inspect', '--json', loop.device]);
      expect(inspected.status).toBe(0);
      const out = String(inspected.stdout);
      expect(out).not.toContain(psk);
      const parsed = JSON.parse(out.trim().split('\n').pop()!) as { result?: { customisation?: unknown }; customisation?: unknown };
      expect(parsed.result?.customisation ?? parsed.customisation).toMatchObject({
        mechanism: { kind: 'armbian' },
        rootPartitionOffset: ROOT_START,
        firstBootFiles: ['/root/.not_logged_in_yet'],
        hostname: 'lab-3',
        users: ['ada'],
        wifiNetworks: ["Lab's net"],
        timezone: 'Europe/Berlin',
        locale: 'de_DE.UTF-8',
      });
      expect(String(cli(['inspect', loop.device]).stdout)).toMatch(/customisable: yes, armbian .*\n[^]*first boot: \/root\/\.not_logged_in_yet; hostname lab-3; users ada; Wi-Fi "Lab's net"; time zone Europe\/Berlin; locale de_DE\.UTF-8/);
    });
  });

  it('from an xz stream: the root is decoded ahead and checked, the preset written on the card; verified', async () => {
    const image = armbianImage('armbian-xz.img');
    execFileSync('xz', ['-T1', '-1', '-k', '-f', image]);
    await withLoopDevice({ sizeBytes: 128 * MiB }, async (loop) => {
      const { result, error, events } = await runCollecting({ op: 'flash', source: `${image}.xz`, device: loop.device, allowLoop: true, customise: { user: { name: 'ada' }, timezone: 'Europe/London' } });
      expect(error).toBeUndefined();
      expect(events).toContainEqual(expect.objectContaining({ type: 'log', message: expect.stringMatching(/first-boot files checked against the image: armbian/) }));
      expect(result).toMatchObject({ verified: true });
      const root = rootOf(loop.device, 'xz.root');
      e2fsckClean(root);
      expect(debugfs(root, 'cat /root/.not_logged_in_yet')).toBe("# Cardsmith: read by armbian-firstlogin at the first root login\nPRESET_USER_NAME='ada'\nPRESET_DEFAULT_REALNAME='ada'\nPRESET_TIMEZONE='Europe/London'\n");
      expect(debugfs(root, 'cat /etc/hostname')).toBe('orangepi5\n');
    });
  });

  it('a setting Armbian cannot take is refused before the card is touched, naming it (raw and xz)', async () => {
    const image = armbianImage('armbian-refuse.img');
    execFileSync('xz', ['-T1', '-0', '-k', '-f', image]);
    await withLoopDevice({ sizeBytes: 128 * MiB }, async (loop) => {
      writeFileSync(loop.device, Buffer.alloc(2 * MiB, 0xab));
      const before = sha(loop.device);
      const hashed = await runCollecting({ op: 'flash', source: image, device: loop.device, allowLoop: true, customise: { user: EVERYTHING.user!, timezone: 'UTC' } });
      expect(hashed.error?.cause).toBe('bad-input');
      expect(hashed.error?.message).toMatch(/cannot take these settings through its first-login preset: the password: armbian-firstlogin passes PRESET_USER_PASSWORD to passwd as plain text/);
      const keys = await runCollecting({ op: 'flash', source: `${image}.xz`, device: loop.device, allowLoop: true, customise: { ssh: EVERYTHING.ssh!, wifi: { ssid: 'x', psk: PSK, hidden: true } } });
      expect(keys.error?.message).toMatch(/SSH keys: armbian-firstlogin only downloads them from a URL.*hidden Wi-Fi network/);
      const catalogSays = await runCollecting({ op: 'flash', source: image, device: loop.device, allowLoop: true, initFormat: 'armbian', customise: { keymap: 'gb' } });
      expect(catalogSays.error?.message).toMatch(/the keyboard layout: armbian-firstlogin has no preset for it/);
      expect(sha(loop.device)).toBe(before);
    });
  });
});
