import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { armbianRefusals, presetFile, presetValues, renamedHosts } from '../../../electron/engine/customise/firstboot/armbian';
import { chooseFirstBoot, findBootFat, firstBootEdit } from '../../../electron/engine/customise/firstboot/detect';
import { summariseCustomisation } from '../../../electron/engine/customise/firstboot/summary';
import { CustomiseSchema, type Customise } from '../../../electron/engine/customise/model';
import { english } from '../../../electron/engine/messages';
import { fileReadAt } from '../../helpers/bytes';
import { writeExt4Image } from '../../helpers/ext4-image';
import { describeWith } from '../../helpers/needs';
import { EVERYTHING, PSK } from './settings-fixture';

const dir = mkdtempSync(join(tmpdir(), 'cardsmith-armbian-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MiB = 1 << 20;

/** What Armbian takes: no password hash, keys, keymap or hidden network; an SSID bash and YAML keep. */
const ARMBIAN: Customise = CustomiseSchema.parse({
  hostname: 'lab-pi-7',
  user: { name: 'ada', sudo: true },
  wifi: { ssid: "Bob's $(reboot) `net` #1", psk: PSK, country: 'GB' },
  timezone: 'Europe/London',
  locale: 'en_GB.UTF-8',
});

/** The variables as bash sees them after sourcing `file`, as `armbian-firstlogin` does. */
function sourced(file: string, names: string[]): Record<string, string> {
  const script = `set -eu; . "$1"; ${names.map((n) => `printf '%s\\0' "\${${n}-}"`).join('; ')}`;
  const out = execFileSync('bash', ['-c', script, 'bash', file]).toString().split('\0');
  return Object.fromEntries(names.map((n, i) => [n, out[i]!]));
}

describe('the Armbian preset and what it refuses', () => {
  it('writes PRESET_* lines that bash -n accepts and that source to exactly the settings, after the image’s own lines', () => {
    const file = join(dir, 'preset');
    writeFileSync(file, presetFile('PRESET_USER_NAME="old"\nPRESET_ROOT_PASSWORD=1234', ARMBIAN));
    expect(spawnSync('bash', ['-n', file]).status).toBe(0);
    expect(sourced(file, ['PRESET_USER_NAME', 'PRESET_DEFAULT_REALNAME', 'PRESET_ROOT_PASSWORD', 'SET_LANG_BASED_ON_LOCATION', 'PRESET_LOCALE', 'PRESET_TIMEZONE', 'PRESET_NET_CHANGE_DEFAULTS', 'PRESET_NET_WIFI_ENABLED', 'PRESET_NET_WIFI_SSID', 'PRESET_NET_WIFI_KEY', 'PRESET_NET_WIFI_COUNTRYCODE', 'PRESET_CONNECT_WIRELESS'])).toEqual({
      PRESET_USER_NAME: 'ada',
      PRESET_DEFAULT_REALNAME: 'ada',
      PRESET_ROOT_PASSWORD: '1234',
      SET_LANG_BASED_ON_LOCATION: 'n',
      PRESET_LOCALE: 'en_GB.UTF-8',
      PRESET_TIMEZONE: 'Europe/London',
      PRESET_NET_CHANGE_DEFAULTS: '1',
      PRESET_NET_WIFI_ENABLED: '1',
      PRESET_NET_WIFI_SSID: "Bob's $(reboot) `net` #1",
      PRESET_NET_WIFI_KEY: PSK,
      PRESET_NET_WIFI_COUNTRYCODE: 'GB',
      PRESET_CONNECT_WIRELESS: 'n',
    });
    // The summary's reader agrees with bash, the later assignment winning.
    const values = presetValues(presetFile('PRESET_USER_NAME="old"\n', ARMBIAN));
    expect(values.get('PRESET_USER_NAME')).toBe('ada');
    expect(values.get('PRESET_NET_WIFI_SSID')).toBe("Bob's $(reboot) `net` #1");
    expect(presetValues(`A='x'\\''y'\nB="q\\"r"\r\nexport C=bare # note`)).toEqual(new Map([['A', "x'y"], ['B', 'q"r'], ['C', 'bare']]));
  });

  it('refuses, one reason each, what Armbian cannot take as Cardsmith holds it', () => {
    expect(armbianRefusals(ARMBIAN)).toEqual([]);
    const refused = armbianRefusals({ ...EVERYTHING, user: { name: 'ada-l', passwordHash: EVERYTHING.user!.passwordHash!, sudo: false } }).map(english);
    expect(refused).toHaveLength(7);
    expect(refused.join('\n')).toMatch(/user name "ada-l".*letters and digits/);
    expect(refused.join('\n')).toMatch(/password: armbian-firstlogin passes PRESET_USER_PASSWORD to passwd as plain text/);
    expect(refused.join('\n')).toMatch(/without sudo/);
    expect(refused.join('\n')).toMatch(/SSH keys: .*URL/);
    expect(refused.join('\n')).toMatch(/keyboard layout/);
    expect(refused.join('\n')).toMatch(/hidden Wi-Fi/);
    expect(refused.join('\n')).toMatch(/Wi-Fi network name: .*cannot hold "/);
    expect(armbianRefusals({ ssh: { enabled: true } }).map(english)).toEqual(['SSH settings: armbian-firstlogin has no preset for the SSH server']);
  });

  it('renames the host in /etc/hosts, and adds a 127.0.1.1 line when there is none', () => {
    const hosts = '127.0.0.1   localhost\n127.0.1.1   orangepi5\n::1         localhost orangepi5 ip6-localhost # orangepi5 stays in comments\n';
    expect(renamedHosts(hosts, 'orangepi5', 'lab')).toBe('127.0.0.1   localhost\n127.0.1.1   lab\n::1         localhost lab ip6-localhost # orangepi5 stays in comments\n');
    expect(renamedHosts('127.0.0.1 localhost\n', 'x', 'lab')).toBe('127.0.0.1 localhost\n127.0.1.1\tlab\n');
  });
});

/** MBR with one ext4 partition at 1 MiB made by mkfs.ext4 -d from an Armbian-like tree. */
function armbianImage(name: string, armbian = true): string {
  const tree = join(dir, `${name}.tree`);
  mkdirSync(join(tree, 'etc'), { recursive: true });
  mkdirSync(join(tree, 'root'), { recursive: true });
  writeFileSync(join(tree, 'etc/hostname'), 'orangepi5\n');
  writeFileSync(join(tree, 'etc/hosts'), '127.0.0.1 localhost\n127.0.1.1 orangepi5\n');
  if (armbian) {
    writeFileSync(join(tree, 'etc/armbian-release'), 'BOARD=orangepi5\nVERSION=25.2.1\n');
    writeFileSync(join(tree, 'root/.not_logged_in_yet'), '');
  }
  return writeExt4Image(join(dir, name), tree, { sizeBytes: 32 * MiB, start: MiB, mbr: true });
}

describeWith(['tool:mkfs.ext4', 'tool:sfdisk', 'tool:e2fsck', 'tool:debugfs'], 'an Armbian-like image', () => {
  it('is detected from its ext4 root, edited in place (e2fsck clean) and summarised without secrets', async () => {
    const image = armbianImage('armbian.img');
    const size = 33 * MiB;
    const read = fileReadAt(image);
    const choice = await chooseFirstBoot(await findBootFat(read, size), undefined, { read, sizeBytes: size });
    expect(choice).toMatchObject({ kind: 'armbian', armbian: { offset: MiB } });
    const edit = await firstBootEdit(read, size, ARMBIAN, { mtime: 1_800_000_000, instanceId: 'i' });
    expect(edit.files).toEqual(['/root/.not_logged_in_yet', '/etc/hostname', '/etc/hosts']);
    const copy = join(dir, 'armbian.edited');
    copyFileSync(image, copy);
    const fd = openSync(copy, 'r+');
    for (const p of edit.patches) writeSync(fd, p.bytes, 0, p.bytes.length, p.offset);
    closeSync(fd);
    const part = join(dir, 'armbian.part');
    execFileSync('dd', [`if=${copy}`, `of=${part}`, 'bs=1M', 'skip=1', 'status=none']);
    const fsck = spawnSync('e2fsck', ['-fn', part], { encoding: 'utf8' });
    expect(fsck.status, fsck.stdout).toBe(0);
    const cat = (path: string): string => execFileSync('debugfs', ['-R', `cat ${path}`, part], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    expect(cat('/etc/hostname')).toBe('lab-pi-7\n');
    expect(cat('/etc/hosts')).toBe('127.0.0.1 localhost\n127.0.1.1 lab-pi-7\n');
    expect(cat('/root/.not_logged_in_yet')).toContain("PRESET_USER_NAME='ada'");
    expect(execFileSync('debugfs', ['-R', 'stat /root/.not_logged_in_yet', part], { stdio: ['ignore', 'pipe', 'ignore'] }).toString()).toMatch(/Mode:\s+0600/);

    const summary = await summariseCustomisation(fileReadAt(copy), size);
    expect(summary).toMatchObject({
      mechanism: { kind: 'armbian' },
      rootPartitionOffset: MiB,
      firstBootFiles: ['/root/.not_logged_in_yet'],
      users: ['ada'],
      hostname: 'lab-pi-7',
      locale: 'en_GB.UTF-8',
      timezone: 'Europe/London',
      wifiNetworks: ["Bob's $(reboot) `net` #1"],
    });
    expect(JSON.stringify(summary)).not.toContain(PSK);
  });

  it('finds the root behind a separate ext4 /boot partition', async () => {
    const boot = armbianImage('boot.img', false);
    const root = armbianImage('root.img');
    const image = join(dir, 'two.img');
    execFileSync('truncate', ['-s', `${65 * MiB}`, image]);
    execFileSync('dd', [`if=${boot}`, `of=${image}`, 'bs=1M', 'skip=1', 'seek=1', 'count=32', 'conv=notrunc', 'status=none']);
    execFileSync('dd', [`if=${root}`, `of=${image}`, 'bs=1M', 'skip=1', 'seek=33', 'count=32', 'conv=notrunc', 'status=none']);
    execFileSync('sfdisk', ['--quiet', image], { input: `label: dos\nstart=2048, size=${32 * 2048}, type=83\nstart=${33 * 2048}, type=83\n` });
    const read = fileReadAt(image);
    expect(await chooseFirstBoot(null, undefined, { read, sizeBytes: 65 * MiB })).toMatchObject({ kind: 'armbian', armbian: { offset: 33 * MiB } });
  });

  it('refuses a plain ext4 image with the reason, and a refused setting before any patch', async () => {
    const plain = armbianImage('plain.img', false);
    const read = fileReadAt(plain);
    await expect(firstBootEdit(read, 33 * MiB, ARMBIAN, { mtime: 0, instanceId: 'i' })).rejects.toThrow(/not an Armbian image with a pending first login \(the ext4 partition at byte 1048576 has no \/etc\/armbian-release\)/);
    const image = armbianImage('refuse.img');
    await expect(firstBootEdit(fileReadAt(image), 33 * MiB, { ...ARMBIAN, keymap: 'gb' }, { mtime: 0, instanceId: 'i' })).rejects.toThrow(/cannot take these settings through its first-login preset: the keyboard layout/);
  });
});
