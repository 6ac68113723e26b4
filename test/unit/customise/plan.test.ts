import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { customiseRootfs, readFiles } from '../../../electron/engine/compose/customise-tree';
import type { Customise } from '../../../electron/engine/customise/model';
import { planCustomisation } from '../../../electron/engine/customise/plan';
import { filesToRead, RootfsView, type Edit } from '../../../electron/engine/customise/rootfs-view';
import { treeFromDirectory } from '../../../electron/engine/fs/tree-dir';
import { which } from '../../helpers/needs';
import { makeDebianRootfs, type FixtureOptions } from './rootfs-fixture';

const HASH = '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';
const PSK = 'f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM/LK8qtQnjSqjiHOvDmQs0g2iypOSqYJJb8q19RfFfS me@host';
const FULL: Customise = {
  hostname: 'lab-7',
  user: { name: 'ada', passwordHash: HASH, sudo: true },
  ssh: { enabled: true, authorizedKeys: [KEY], passwordLogin: false },
  wifi: { ssid: 'Lab net', psk: PSK, country: 'GB', hidden: true },
  timezone: 'Europe/London',
  locale: 'en_GB.UTF-8',
  keymap: 'de-nodeadkeys',
};
const OPTIONS = { timestamp: 1_700_000_000, seed: 'test' };

const dir = mkdtempSync(join(tmpdir(), 'cardsmith-customise-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;

async function viewOf(options: FixtureOptions = {}): Promise<{ view: RootfsView; folder: string }> {
  const folder = join(dir, `root${count++}`);
  makeDebianRootfs(folder, options);
  const source = await treeFromDirectory(folder);
  return { view: new RootfsView(source.tree, await readFiles(source, filesToRead(source.tree))), folder };
}

function edit(edits: readonly Edit[], path: string): Edit {
  const found = edits.filter((e) => e.path === path).pop();
  if (!found) throw new Error(`no edit of ${path}`);
  return found;
}
const textOf = (e: Edit): string => (e.kind === 'file' ? new TextDecoder().decode(e.content) : '');

describe('planCustomisation on a Debian-like rootfs', () => {
  it('adds the user the way useradd would: next free uid, same-numbered group, sudo membership, shadow hash', async () => {
    const { edits } = planCustomisation((await viewOf()).view, FULL, OPTIONS);
    expect(textOf(edit(edits, 'etc/passwd'))).toMatch(/\nexisting:x:1000:1000:,,,:\/home\/existing:\/bin\/bash\nnobody:.*\nada:x:1001:1001::\/home\/ada:\/bin\/bash\n$/);
    expect(textOf(edit(edits, 'etc/shadow'))).toContain(`\nada:${HASH}:19675:0:99999:7:::\n`);
    expect(edit(edits, 'etc/shadow')).toMatchObject({ mode: 0o640, uid: 0, gid: 42 });
    expect(textOf(edit(edits, 'etc/group'))).toContain('\nsudo:x:27:existing,ada\n');
    expect(textOf(edit(edits, 'etc/group'))).toMatch(/\nada:x:1001:\n$/);
    expect(textOf(edit(edits, 'etc/gshadow'))).toContain('\nsudo:*::existing,ada\n');
    expect(edit(edits, 'home/ada')).toMatchObject({ kind: 'dir', mode: 0o700, uid: 1001, gid: 1001 });
    expect(edit(edits, 'home/ada/.config/app.conf')).toMatchObject({ kind: 'file', mode: 0o600, uid: 1001, gid: 1001 });
    expect(textOf(edit(edits, 'home/ada/.bashrc'))).toBe('# ~/.bashrc\n');
    expect(edit(edits, 'home/ada/.ssh')).toMatchObject({ kind: 'dir', mode: 0o700, uid: 1001 });
    expect(edit(edits, 'home/ada/.ssh/authorized_keys')).toMatchObject({ mode: 0o600, uid: 1001, gid: 1001 });
    expect(textOf(edit(edits, 'home/ada/.ssh/authorized_keys'))).toBe(`${KEY}\n`);
  });

  it('writes host name, region, sshd and NetworkManager Wi-Fi where Debian keeps them', async () => {
    const plan = planCustomisation((await viewOf()).view, FULL, OPTIONS);
    const { edits } = plan;
    expect(textOf(edit(edits, 'etc/hostname'))).toBe('lab-7\n');
    expect(textOf(edit(edits, 'etc/hosts'))).toBe('127.0.0.1\tlocalhost\n127.0.1.1\tlab-7\n::1\t\tlocalhost ip6-localhost ip6-loopback\n');
    expect(edit(edits, 'etc/localtime')).toMatchObject({ kind: 'symlink', target: '/usr/share/zoneinfo/Europe/London' });
    expect(textOf(edit(edits, 'etc/timezone'))).toBe('Europe/London\n');
    expect(textOf(edit(edits, 'etc/default/locale'))).toBe('LANG=en_GB.UTF-8\n');
    expect(textOf(edit(edits, 'etc/default/keyboard'))).toContain('XKBLAYOUT="de"\nXKBVARIANT="nodeadkeys"\n');
    expect(edit(edits, 'etc/systemd/system/multi-user.target.wants/ssh.service')).toMatchObject({ kind: 'symlink', target: '/lib/systemd/system/ssh.service' });
    expect(edit(edits, 'etc/systemd/system/multi-user.target.wants/cardsmith-ssh-keygen.service')).toMatchObject({ kind: 'symlink' });
    expect(edits.filter((e) => e.kind === 'remove').map((e) => e.path).sort()).toEqual(['etc/ssh/ssh_host_ed25519_key', 'etc/ssh/ssh_host_ed25519_key.pub']);
    expect(textOf(edit(edits, 'etc/ssh/sshd_config.d/10-cardsmith.conf'))).toMatch(/^PasswordAuthentication no\n/);
    const nm = edit(edits, 'etc/NetworkManager/system-connections/cardsmith-wifi.nmconnection');
    expect(nm).toMatchObject({ mode: 0o600, uid: 0, gid: 0 });
    expect(textOf(nm)).toMatch(/\nssid=Lab net\nhidden=true\n[\s\S]*\npsk=f42c6fc5/);
    expect(plan.cmdline).toEqual(['cfg80211.ieee80211_regdom=GB']);
  });

  it.runIf(which('systemd-analyze'))('writes a first-boot host key unit that systemd-analyze verify accepts', async () => {
    const { edits } = planCustomisation((await viewOf()).view, { ssh: { enabled: true } }, OPTIONS);
    const unit = join(dir, 'cardsmith-ssh-keygen.service');
    writeFileSync(unit, textOf(edit(edits, 'etc/systemd/system/cardsmith-ssh-keygen.service')));
    const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stderr).toBe('');
  });

  it.each([
    ['networkd', 'etc/wpa_supplicant/wpa_supplicant-wlan0.conf', /country=GB\n\nnetwork=\{\n {4}ssid="Lab net"\n {4}psk=f42c/],
    ['ifupdown', 'etc/network/interfaces.d/cardsmith-wlan0', /wpa-ssid "Lab net"\n {4}wpa-psk f42c/],
    ['netplan', 'etc/netplan/50-cardsmith-wifi.yaml', /regulatory-domain: "GB"\n {6}access-points:\n {8}"Lab net":\n {10}password: "f42c/],
  ] as const)('configures Wi-Fi for %s, the file readable by root only', async (network, path, content) => {
    const { edits } = planCustomisation((await viewOf({ network })).view, { wifi: FULL.wifi }, OPTIONS);
    expect(edit(edits, path)).toMatchObject({ mode: 0o600, uid: 0 });
    expect(textOf(edit(edits, path))).toMatch(content);
  });

  it('on an OpenRC rootfs: sshd in the default runlevel (its init script makes host keys), systemd-style region files', async () => {
    const { edits } = planCustomisation((await viewOf({ openrc: true, sudoGroup: 'wheel' })).view, { ssh: { enabled: true }, locale: 'de_DE.UTF-8', keymap: 'de' }, OPTIONS);
    expect(edit(edits, 'etc/runlevels/default/sshd')).toMatchObject({ kind: 'symlink', target: '/etc/init.d/sshd' });
    expect(edits.some((e) => e.path.includes('systemd'))).toBe(false);
    expect(textOf(edit(edits, 'etc/locale.conf'))).toBe('LANG=de_DE.UTF-8\n');
    expect(textOf(edit(edits, 'etc/vconsole.conf'))).toBe('KEYMAP=de\n');
  });

  const oddSsid = 'Café "lab": #1 ';
  it.runIf(which('python3'))('writes an SSID with quotes, colons and a hash so YAML (PyYAML) reads it back exactly', async () => {
    const { edits } = planCustomisation((await viewOf({ network: 'netplan' })).view, { wifi: { ssid: oddSsid, psk: PSK } }, OPTIONS);
    const yaml = join(dir, 'netplan.yaml');
    writeFileSync(yaml, textOf(edit(edits, 'etc/netplan/50-cardsmith-wifi.yaml')));
    const script = 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))';
    const parsed = JSON.parse(execFileSync('python3', ['-c', script, yaml]).toString()) as { network: { wifis: { wlan0: { 'access-points': Record<string, { password: string }> } } } };
    expect(parsed.network.wifis.wlan0['access-points']).toEqual({ [oddSsid]: { password: PSK } });
  });

  it('quotes the SSID for ifupdown, and refuses one ifupdown would trim', async () => {
    const { edits } = planCustomisation((await viewOf({ network: 'ifupdown' })).view, { wifi: { ssid: 'Café "lab"', psk: PSK } }, OPTIONS);
    expect(textOf(edit(edits, 'etc/network/interfaces.d/cardsmith-wlan0'))).toContain('\n    wpa-ssid "Café "lab""\n');
    const { view } = await viewOf({ network: 'ifupdown' });
    expect(() => planCustomisation(view, { wifi: { ssid: oddSsid, psk: PSK } }, OPTIONS)).toThrow(/leading or trailing blanks/);
  });

  it('writes such an SSID as hex for wpa_supplicant and as bytes for NetworkManager', async () => {
    const hex = Buffer.from(oddSsid).toString('hex');
    const networkd = planCustomisation((await viewOf({ network: 'networkd' })).view, { wifi: { ssid: oddSsid, psk: PSK } }, OPTIONS);
    expect(textOf(edit(networkd.edits, 'etc/wpa_supplicant/wpa_supplicant-wlan0.conf'))).toContain(`\n    ssid=${hex}\n`);
    const nm = planCustomisation((await viewOf()).view, { wifi: { ssid: oddSsid, psk: PSK } }, OPTIONS);
    expect(textOf(edit(nm.edits, 'etc/NetworkManager/system-connections/cardsmith-wifi.nmconnection'))).toContain(`\nssid=${[...Buffer.from(oddSsid)].join(';')};\n`);
  });

  it('uses the wheel group where there is no sudo group', async () => {
    const { edits } = planCustomisation((await viewOf({ sudoGroup: 'wheel' })).view, { user: { name: 'ada', sudo: true } }, OPTIONS);
    expect(textOf(edit(edits, 'etc/group'))).toContain('\nwheel:x:27:existing,ada\n');
    expect(textOf(edit(edits, 'etc/shadow'))).toContain('\nada:*:19675:');
  });

  it.each([
    ['no sudo or wheel group', { sudoGroup: null }, { user: { name: 'ada', sudo: true } }, /neither a sudo nor a wheel group/, 'user.sudo'],
    ['no sshd', { sshd: false }, { ssh: { enabled: true } }, /no SSH server/, 'ssh'],
    ['no network stack', { network: null }, { wifi: FULL.wifi }, /no network stack/, 'wifi'],
    ['no tzdata', { tzdata: false }, { timezone: 'Europe/London' }, /no time zone database/, 'timezone'],
    ['a zone tzdata lacks', {}, { timezone: 'Asia/Tokyo' }, /has no Asia\/Tokyo/, 'timezone'],
    ['an existing user', {}, { user: { name: 'existing' } }, /already has a user "existing"/, 'user.name'],
    ['keys without a user', {}, { ssh: { enabled: true, authorizedKeys: [KEY] } }, /give --user too/, 'ssh.authorizedKeys'],
  ] as const)('refuses %s, naming the setting', async (_, fixture, settings, message, field) => {
    const { view } = await viewOf(fixture as FixtureOptions);
    let caught: unknown;
    try {
      planCustomisation(view, settings as Customise, OPTIONS);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ info: { cause: 'bad-input', message: expect.stringMatching(message), details: expect.objectContaining({ field }) } });
  });
});

describe('customiseRootfs', () => {
  it('hands the writer a consistent tree: every file once, replaced ones with their new bytes, removed ones gone', async () => {
    const folder = join(dir, 'apply');
    makeDebianRootfs(folder);
    const { source, files, cmdline } = await customiseRootfs(await treeFromDirectory(folder), FULL, OPTIONS);
    expect(files).toContain('/etc/passwd');
    expect(files).toContain('/etc/ssh/ssh_host_ed25519_key (removed)');
    expect(cmdline).toEqual(['cfg80211.ieee80211_regdom=GB']);
    const seen = new Map<object, Uint8Array>();
    for await (const { file, chunks } of source.contents()) {
      expect(seen.has(file)).toBe(false);
      const parts: Uint8Array[] = [];
      for await (const chunk of chunks) parts.push(Uint8Array.from(chunk.data));
      seen.set(file, Buffer.concat(parts));
    }
    expect(new Set(seen.keys())).toEqual(new Set(source.tree.files));
    const view = new RootfsView(source.tree, seen as Map<never, Uint8Array>);
    expect(view.text('etc/passwd')).toContain('\nada:x:1001:1001:');
    expect(view.text('etc/hostname')).toBe('lab-7\n');
    expect(view.find('etc/ssh/ssh_host_ed25519_key', false)).toBeUndefined();
    expect(view.text('home/ada/.profile')).toBe('# ~/.profile\n');
  });

  it('leaves the rootfs untouched when the settings ask for nothing', async () => {
    const folder = join(dir, 'none');
    makeDebianRootfs(folder);
    const original = await treeFromDirectory(folder);
    expect((await customiseRootfs(original, {}, OPTIONS)).source).toBe(original);
  });
});
