import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { metaData, networkConfig, userData } from '../../../electron/engine/customise/firstboot/cloud-init';
import { chooseFirstBoot, findBootFat, firstBootEdit } from '../../../electron/engine/customise/firstboot/detect';
import { summariseCustomisation } from '../../../electron/engine/customise/firstboot/summary';
import { FIRSTRUN_HOOK, firstrunScript, hookedCmdline, shQuote } from '../../../electron/engine/customise/firstboot/firstrun';
import type { Customise } from '../../../electron/engine/customise/model';
import type { ReadAt } from '../../../electron/engine/disk/read-layout';
import { describeWith } from '../../helpers/needs';
import { EVERYTHING, HASH, KEY, PSK } from './settings-fixture';

const dir = mkdtempSync(join(tmpdir(), 'cardsmith-firstboot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function yamlLoad(path: string): unknown {
  const out = execFileSync('python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', path]);
  return JSON.parse(out.toString());
}

describe('first-boot text', () => {
  it('single-quotes sh words so nothing inside expands', () => {
    for (const text of [EVERYTHING.wifi!.ssid, "'", "a'b'c", '$HOME `id` \\ "x"']) {
      expect(execFileSync('sh', ['-c', `printf %s ${shQuote(text)}`]).toString()).toBe(text);
    }
  });

  it('appends the hook to the single cmdline.txt line, replacing an older one', () => {
    const base = 'console=serial0,115200 console=tty1 root=PARTUUID=abcd-02 rootfstype=ext4 fsck.repair=yes rootwait';
    expect(hookedCmdline(`${base}\n`)).toBe(`${base}${FIRSTRUN_HOOK}\n`);
    expect(hookedCmdline(`${base} systemd.run=/boot/old.sh systemd.unit=kernel-command-line.target\n`)).toBe(`${base}${FIRSTRUN_HOOK}\n`);
    expect(() => hookedCmdline('\n')).toThrow(/cmdline\.txt .* is empty/);
  });

  it('meta-data names the instance and host', () => {
    expect(metaData(EVERYTHING, 'cardsmith-1')).toBe('instance-id: "cardsmith-1"\nlocal-hostname: "lab-pi-7"\n');
  });
});

describeWith(['tool:sh', 'tool:shellcheck'], 'firstrun.sh judged by sh -n and shellcheck', () => {
  for (const [name, settings] of [
    ['every setting', EVERYTHING],
    ['only a host name', { hostname: 'pi' }],
    ['a user without a password and keys for the default user', { user: { name: 'bob' }, ssh: { authorizedKeys: [KEY] } }],
  ] as [string, Customise][]) {
    it(`${name}: parses and passes shellcheck`, () => {
      const path = write('firstrun.sh', firstrunScript(settings));
      const parse = spawnSync('sh', ['-n', path]);
      expect(parse.stderr.toString()).toBe('');
      expect(parse.status).toBe(0);
      const check = spawnSync('shellcheck', ['-s', 'sh', path]);
      expect(check.stdout.toString()).toBe('');
      expect(check.status).toBe(0);
    });
  }

  it('writes the SSID in hex for wpa_supplicant and keeps secrets only as hashes', () => {
    const script = firstrunScript(EVERYTHING);
    expect(script).toContain(`\tssid=${Buffer.from(EVERYTHING.wifi!.ssid).toString('hex')}\n`);
    expect(script).toContain(`\tpsk=${PSK}\n`);
    expect(script).toContain(`/usr/lib/userconf-pi/userconf 'ada' '${HASH}'`);
    expect(script).toContain(KEY);
    expect(script).toMatch(/PasswordAuthentication no/);
  });
});

describeWith(['tool:cloud-init'], "user-data judged by cloud-init's own schema validator", () => {
  it('accepts what Cardsmith writes for every setting', () => {
    const path = write('user-data', userData(EVERYTHING));
    const run = spawnSync('cloud-init', ['schema', '--config-file', path]);
    expect(`${run.stdout}${run.stderr}`).toMatch(/Valid cloud-config/);
    expect(run.status).toBe(0);
    expect(yamlLoad(path)).toMatchObject({
      hostname: 'lab-pi-7',
      users: [{ name: 'ada', passwd: HASH, lock_passwd: false, groups: ['sudo'], ssh_authorized_keys: [KEY] }],
      ssh_pwauth: false,
      timezone: 'Europe/London',
      locale: 'en_GB.UTF-8',
      keyboard: { layout: 'gb' },
    });
  });

  it('rejects a document with a wrong type (the validator is not a rubber stamp)', () => {
    const path = write('bad-user-data', userData(EVERYTHING).replace('ssh_pwauth: false', 'ssh_pwauth: [1]'));
    const run = spawnSync('cloud-init', ['schema', '--config-file', path]);
    expect(run.status).not.toBe(0);
  });
});

describeWith(['tool:python3'], 'network-config read by a YAML parser (cloud-init 22.4 has no network-config schema)', () => {
  it('holds the SSID as written, the hex PSK and the regulatory domain', () => {
    const path = write('network-config', networkConfig(EVERYTHING)!);
    expect(yamlLoad(path)).toEqual({
      network: {
        version: 2,
        ethernets: { eth0: { dhcp4: true, optional: true } },
        wifis: { wlan0: { dhcp4: true, optional: true, 'regulatory-domain': 'GB', 'access-points': { [EVERYTHING.wifi!.ssid]: { password: PSK, hidden: true } } } },
      },
    });
    expect(networkConfig({ hostname: 'x' })).toBeNull();
  });
});

function fileReader(path: string): ReadAt {
  const data = execFileSync('cat', [path], { maxBuffer: 1 << 28 });
  return async (offset, length) => Uint8Array.from(data.subarray(offset, offset + length));
}

function fatWith(name: string, files: Record<string, string>): string {
  const image = join(dir, name);
  rmSync(image, { force: true });
  execFileSync('mkfs.fat', ['-F', '16', '-s', '1', '-C', image, '8192']);
  for (const [file, text] of Object.entries(files)) execFileSync('mcopy', ['-i', image, write('src', text), `::${file}`], { env });
  return image;
}

describeWith(['tool:mkfs.fat', 'tool:mcopy'], 'choosing the first-boot mechanism', () => {
  it('from the image: cloud-init seeds, then cmdline.txt + config.txt, else refused with the reason', async () => {
    const seeds = fatWith('seeds.img', { 'user-data': '#cloud-config\n', 'meta-data': '', 'cmdline.txt': 'x\n', 'config.txt': '' });
    const raspios = fatWith('raspios.img', { 'cmdline.txt': 'root=x\n', 'config.txt': '' });
    const other = fatWith('other.img', { 'EFI.TXT': '' });
    const choose = async (image: string, initFormat?: string): Promise<string> => (await chooseFirstBoot(await findBootFat(fileReader(image), 8192 * 1024), initFormat)).kind;
    expect(await choose(seeds)).toBe('cloudinit');
    expect(await choose(raspios)).toBe('systemd');
    await expect(choose(other)).rejects.toThrow(/cannot tell how this image takes first-boot settings.*neither cloud-init seeds/);
    expect(await choose(other, 'cloudinit-rpi')).toBe('cloudinit-rpi');
    await expect(choose(raspios, 'ignition')).rejects.toThrow(/"ignition", which Cardsmith does not know/);
  });

  it('the edit for a Raspberry Pi OS volume adds firstrun.sh and hooks cmdline.txt', async () => {
    const image = fatWith('edit.img', { 'cmdline.txt': 'root=PARTUUID=1-02 rootwait\n', 'config.txt': '' });
    const edit = await firstBootEdit(fileReader(image), 8192 * 1024, { hostname: 'pi' }, { mtime: 0, instanceId: 'i' });
    expect(edit.choice.kind).toBe('systemd');
    expect(edit.files).toEqual(['firstrun.sh', 'cmdline.txt']);
    expect(edit.patches.length).toBeGreaterThan(0);
  });
});

describeWith(['tool:mkfs.fat', 'tool:mcopy'], 'inspect summary of seeds Cardsmith did not write', () => {
  it('reads an Ubuntu-style user-data and network-config with plain scalars, never the password hash', async () => {
    const userDataText = ['#cloud-config', 'hostname: ubuntu-box', 'users:', '  - default', '  - name: bob', `    passwd: ${HASH}`, '    ssh_authorized_keys:', `      - ${KEY}`, 'timezone: Etc/UTC', ''].join('\n');
    const network = ['network:', '  version: 2', '  wifis:', '    wlan0:', '      access-points:', '        home-net:', '          password: "secret-pass"', '        "other net":', '          password: "x12345678"', '      dhcp4: true', ''].join('\n');
    const image = fatWith('ubuntu.img', { 'user-data': userDataText, 'network-config': network, 'meta-data': 'instance-id: x\n' });
    const summary = await summariseCustomisation(fileReader(image), 8192 * 1024);
    expect(summary).toEqual({
      bootPartitionOffset: 0,
      firstBootFiles: ['user-data', 'network-config', 'meta-data'],
      cmdlineHook: false,
      hostname: 'ubuntu-box',
      users: ['bob'],
      sshKeys: 1,
      wifiNetworks: ['home-net', 'other net'],
      timezone: 'Etc/UTC',
      mechanism: { kind: 'cloudinit', reason: 'the boot partition at byte 0 holds cloud-init NoCloud seeds' },
    });
    expect(JSON.stringify(summary)).not.toMatch(/secret-pass|\$6\$/);
  });

  it('says why a disk cannot be customised, for the GUI to show', async () => {
    const other = await summariseCustomisation(fileReader(fatWith('efi.img', { 'EFI.TXT': '' })), 8192 * 1024);
    expect(other.mechanism).toEqual({ kind: null, reason: expect.stringMatching(/cannot tell how this image takes first-boot settings/), said: [{ key: 'firstboot.unknownImage', params: { offset: 0 } }, { key: 'armbian.why.noExt4', params: {} }] });
    const blank = join(dir, 'blank.img');
    writeFileSync(blank, Buffer.alloc(1 << 20));
    const none = await summariseCustomisation(fileReader(blank), 1 << 20);
    expect(none).toMatchObject({ firstBootFiles: [], mechanism: { kind: null, reason: expect.stringMatching(/no FAT boot partition/) } });
    expect(none.bootPartitionOffset).toBeUndefined();
  });
});
