// Issue 16, "Done when": a rootfs card built with every setting boots in QEMU and the guest reports
// them — host name (set from /etc/hostname), the user's uid, groups and home, the authorized_keys
// modes and owner, and the time zone as glibc resolves /etc/localtime. Built, flashed to a loop
// device and verified by the CLI like every boot card; the console log is kept under
// test-artifacts/boot/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWith, type Need } from '../helpers/needs';
import { bootCard } from './boot-card';
import { makeCard, CARDSMITH_CLI } from './cards';
import { MACHINES, U_BOOT_QEMU_ARM64 } from './machines';
import { outcomeText } from './qemu';
import { GUEST_LINE } from './rootfs';

const virt = MACHINES['virt-aarch64'];
const needs: Need[] = ['root', 'tool:losetup', 'tool:qemu-img', 'tool:sfdisk', 'tool:ssh-keygen', `tool:${virt.qemu}`, `file:${CARDSMITH_CLI}`, `file:${virt.busybox}`, `file:${virt.kernelRoot}/boot`, `file:${U_BOOT_QEMU_ARM64}`, 'file:/usr/share/zoneinfo/Asia/Tokyo'];
const scratch = mkdtempSync(join(tmpdir(), 'cardsmith-boot-customise-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describeWith(needs, 'a customised card boots on virt (arm64) and its guest reports the settings', () => {
  it('hostname, user, sudo group, home, authorized_keys and time zone as the guest sees them', async () => {
    const work = join(scratch, 'virt');
    mkdirSync(work, { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ada@laptop', '-f', join(work, 'id')]);
    writeFileSync(join(work, 'password'), 'boot test password\n');
    writeFileSync(join(work, 'psk'), 'boot test passphrase\n');
    const args = ['--hostname', 'cardsmith-lab', '--user', 'ada', '--password-file', join(work, 'password'), '--sudo', '--ssh-key', join(work, 'id.pub'),
      '--ssh-password-login', 'off', '--wifi-ssid', 'Lab', '--wifi-psk-file', join(work, 'psk'), '--wifi-country', 'JP', '--timezone', 'Asia/Tokyo', '--locale', 'ja_JP.UTF-8', '--keymap', 'jp'];
    const card = await makeCard({ machine: virt, work, cardBytes: 256 << 20, customise: { zone: 'Asia/Tokyo', args } });
    const run = await bootCard({ machine: virt, card: card.file, cardBytes: card.sizeBytes, work, name: 'virt-aarch64-customised', marker: new RegExp(`CARDSMITH-BOOT-OK nonce=${card.nonce} `) });
    expect(run.outcome.kind, outcomeText(run)).toBe('marker');
    const report = new Map(run.lines.flatMap((line) => {
      const match = new RegExp(`${GUEST_LINE} ([a-z-]+)=(.*)$`).exec(line.text);
      return match ? [[match[1]!, match[2]!.trim()] as const] : [];
    }));
    expect(report.get('hostname'), outcomeText(run)).toBe('cardsmith-lab');
    expect(report.get('id')).toBe('uid=1000(ada) gid=1000(ada) groups=1000(ada),27(sudo)');
    expect(report.get('home')).toBe('700 1000 1000');
    expect(report.get('ssh-dir')).toBe('700 1000 1000');
    expect(report.get('authorized-keys')).toBe('600 1000 1000');
    expect(report.get('localtime')).toBe('/usr/share/zoneinfo/Asia/Tokyo');
    expect(report.get('zone')).toBe('JST');
  });
});
