import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withLoopDevice } from '../../helpers/loop';
import { describeWith } from '../../helpers/needs';
import { makeDebianRootfs } from '../../unit/customise/rootfs-fixture';

const ENV = { SOURCE_DATE_EPOCH: '1700000000', CARDSMITH_SEED: 'customise-test' };
const PASSWORD = 'correct horse battery';
const PASSPHRASE = 'wifi passphrase 42';
const repo = join(__dirname, '..', '..', '..');
let dir = '';
let tarball = '';
let key = '';
let flags: string[] = [];

const cli = (args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [join(repo, 'bin/cardsmith.cjs'), ...args], { encoding: 'utf8', env: { ...process.env, ...ENV } });

/** The root partition copied out of the image, for e2fsck and debugfs. */
function rootPartition(image: string): string {
  const table = JSON.parse(execFileSync('sfdisk', ['--json', image]).toString()) as { partitiontable: { partitions: { start: number; size: number }[] } };
  const root = table.partitiontable.partitions[1]!;
  const bytes = Buffer.alloc(root.size * 512);
  const fd = openSync(image, 'r');
  try {
    readSync(fd, bytes, 0, bytes.length, root.start * 512);
  } finally {
    closeSync(fd);
  }
  const out = `${image}.root`;
  writeFileSync(out, bytes);
  return out;
}

interface Stat {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  link?: string;
}
function debugfsStat(fs: string, path: string): Stat {
  const out = execFileSync('debugfs', ['-R', `stat "${path}"`, fs], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const m = /Type: (\S+)\s+Mode:\s+(\d+)/.exec(out);
  const owner = /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(out);
  if (!m || !owner) throw new Error(`debugfs cannot stat ${path}: ${out}`);
  const link = /Fast link dest: "(.*)"/.exec(out)?.[1];
  return { type: m[1]!, mode: parseInt(m[2]!, 8), uid: Number(owner[1]), gid: Number(owner[2]), ...(link ? { link } : {}) };
}
const debugfsCat = (fs: string, path: string): string => execFileSync('debugfs', ['-R', `cat "${path}"`, fs], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

// Both suites run the CLI as it is in this checkout.
beforeAll(() => execFileSync(process.execPath, [join(repo, 'scripts/build.mjs'), 'cli'], { cwd: repo, stdio: 'ignore' }));

describeWith(['tool:tar', 'tool:sfdisk', 'tool:e2fsck', 'tool:debugfs', 'tool:openssl', 'tool:ssh-keygen', 'tool:python3'], 'a customised build, read back with e2fsprogs', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cardsmith-customise-'));
    const root = join(dir, 'root');
    makeDebianRootfs(root);
    mkdirSync(join(root, 'boot'));
    writeFileSync(join(root, 'boot/vmlinuz-6.1.0-1-arm64'), Buffer.alloc(100_000, 7));
    tarball = join(dir, 'rootfs.tar.gz');
    execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '--sort=name', '-czf', tarball, '-C', root, '.']);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ada@laptop', '-f', join(dir, 'id')]);
    key = readFileSync(join(dir, 'id.pub'), 'utf8').trim();
    writeFileSync(join(dir, 'password'), `${PASSWORD}\n`);
    writeFileSync(join(dir, 'psk'), `${PASSPHRASE}\n`);
    writeFileSync(join(dir, 'settings.json'), JSON.stringify({ hostname: 'from-file', locale: 'en_GB.UTF-8', keymap: 'gb' }));
    flags = ['--board', 'qemu-virt-aarch64', '--rootfs', tarball, '--customise', join(dir, 'settings.json'), '--hostname', 'lab-7', '--user', 'ada', '--password-file', join(dir, 'password'), '--sudo',
      '--ssh-key', join(dir, 'id.pub'), '--ssh-password-login', 'off', '--wifi-ssid', 'Lab net', '--wifi-psk-file', join(dir, 'psk'), '--wifi-country', 'GB', '--timezone', 'Europe/London'];
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('plan lists the files the customisation writes, and build writes them with the right owner, mode and content; e2fsck is clean', () => {
    const plan = cli(['plan', ...flags]);
    expect(plan.status, `${String(plan.stderr)}${String(plan.stdout)}`).toBe(0);
    for (const path of ['/etc/hostname', '/etc/shadow', '/home/ada/.ssh/authorized_keys', '/etc/NetworkManager/system-connections/cardsmith-wifi.nmconnection', '/etc/ssh/ssh_host_ed25519_key (removed)']) {
      expect(plan.stdout).toContain(`  ${path}\n`);
    }

    const image = join(dir, 'card.img');
    const built = cli(['build', ...flags, '-o', image, '--json']);
    expect(built.status, String(built.stderr)).toBe(0);
    const said = `${built.stdout}${plan.stdout}${plan.stderr}`;
    expect(said).not.toContain(PASSWORD);
    expect(said).not.toContain('$6$');
    expect(said).not.toContain(PASSPHRASE);

    const fs = rootPartition(image);
    expect(spawnSync('e2fsck', ['-fn', fs]).status).toBe(0);
    const expectFile = (path: string, mode: number, uid: number, gid: number): string => {
      expect(debugfsStat(fs, path), path).toMatchObject({ type: 'regular', mode, uid, gid });
      return debugfsCat(fs, path);
    };
    expect(expectFile('/etc/hostname', 0o644, 0, 0)).toBe('lab-7\n');
    expect(expectFile('/etc/hosts', 0o644, 0, 0)).toContain('127.0.1.1\tlab-7\n');
    expect(expectFile('/etc/passwd', 0o644, 0, 0)).toContain('\nada:x:1001:1001::/home/ada:/bin/bash\n');
    expect(expectFile('/etc/group', 0o644, 0, 0)).toContain('\nsudo:x:27:existing,ada\n');
    expect(expectFile('/etc/gshadow', 0o640, 0, 42)).toContain('\nada:!::\n');
    const shadowLine = expectFile('/etc/shadow', 0o640, 0, 42).split('\n').find((line) => line.startsWith('ada:'))!;
    const hash = shadowLine.split(':')[1]!;
    const salt = hash.split('$')[2]!;
    // An independent sha512-crypt: OpenSSL's.
    expect(execFileSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: PASSWORD }).toString().trim()).toBe(hash);
    expect(debugfsStat(fs, '/home/ada')).toMatchObject({ type: 'directory', mode: 0o700, uid: 1001, gid: 1001 });
    expect(debugfsStat(fs, '/home/ada/.ssh')).toMatchObject({ type: 'directory', mode: 0o700, uid: 1001, gid: 1001 });
    expect(expectFile('/home/ada/.ssh/authorized_keys', 0o600, 1001, 1001)).toBe(`${key}\n`);
    expect(expectFile('/home/ada/.bashrc', 0o644, 1001, 1001)).toBe('# ~/.bashrc\n');
    expect(expectFile('/home/ada/.config/app.conf', 0o600, 1001, 1001)).toBe('x=1\n');
    expect(debugfsStat(fs, '/etc/systemd/system/multi-user.target.wants/ssh.service')).toMatchObject({ type: 'symlink', link: '/lib/systemd/system/ssh.service' });
    expect(spawnSync('debugfs', ['-R', 'stat /etc/ssh/ssh_host_ed25519_key', fs], { encoding: 'utf8' }).stderr).toMatch(/File not found/);
    expect(expectFile('/etc/ssh/sshd_config.d/10-cardsmith.conf', 0o644, 0, 0)).toMatch(/^PasswordAuthentication no$/m);
    expect(debugfsStat(fs, '/etc/localtime')).toMatchObject({ type: 'symlink', link: '/usr/share/zoneinfo/Europe/London' });
    expect(expectFile('/etc/timezone', 0o644, 0, 0)).toBe('Europe/London\n');
    expect(expectFile('/etc/default/locale', 0o644, 0, 0)).toBe('LANG=en_GB.UTF-8\n');
    expect(expectFile('/etc/default/keyboard', 0o644, 0, 0)).toContain('XKBLAYOUT="gb"');
    const nm = expectFile('/etc/NetworkManager/system-connections/cardsmith-wifi.nmconnection', 0o600, 0, 0);
    // An independent PBKDF2: Python's.
    const psk = execFileSync('python3', ['-c', 'import hashlib,sys; print(hashlib.pbkdf2_hmac("sha1", sys.argv[1].encode(), sys.argv[2].encode(), 4096, 32).hex())', PASSPHRASE, 'Lab net']).toString().trim();
    expect(nm).toContain(`\nssid=Lab net\n`);
    expect(nm).toContain(`\npsk=${psk}\n`);
    // The rootfs's other files came through untouched.
    expect(expectFile('/etc/skel/.profile', 0o644, 0, 0)).toBe('# ~/.profile\n');
  });

  it.each([
    ['an invalid host name', ['--hostname=-lab'], /--hostname: a host name/],
    ['an invalid user name', ['--user', 'Ada'], /--user: a user name starts/],
    ['an unknown time zone', ['--timezone', 'Europe/Londn'], /--timezone: not an IANA time zone/],
    ['an SSID over 32 bytes', ['--wifi-ssid', 'x'.repeat(33), '--wifi-psk-file', 'PSK'], /32/],
    ['a passphrase under 8 characters', ['--wifi-ssid', 'lab', '--wifi-psk-file', 'SHORT'], /8 to 63/],
    ['a bad SSH key', ['--user', 'ada', '--ssh-key', 'BADKEY'], /--ssh-key: not an SSH public key/],
    ['a rootfs without what a setting needs', ['--user', 'ada', '--sudo', '--rootfs', 'NOSUDO'], /neither a sudo nor a wheel group/],
  ])('refuses %s before anything is written', (_, extra, message) => {
    writeFileSync(join(dir, 'short'), 'short\n');
    writeFileSync(join(dir, 'bad.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM/LK8qt\n');
    const nosudo = join(dir, 'nosudo');
    if (!existsSync(nosudo)) makeDebianRootfs(nosudo, { sudoGroup: null });
    const args = extra.map((a) => ({ PSK: join(dir, 'psk'), SHORT: join(dir, 'short'), BADKEY: join(dir, 'bad.pub'), NOSUDO: nosudo })[a] ?? a);
    const out = join(dir, `refused-${readdirSync(dir).length}`);
    mkdirSync(out);
    const run = cli(['build', '--board', 'qemu-virt-aarch64', '--rootfs', tarball, ...args, '-o', join(out, 'card.img')]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(message);
    expect(readdirSync(out)).toEqual([]);
  });
});

describeWith(['root', 'tool:losetup', 'tool:tar', 'tool:sfdisk', 'tool:e2fsck', 'tool:debugfs', 'tool:ssh-keygen'], 'flash with a customised recipe', () => {
  it('builds the recipe at the card\'s size with the settings in it, writes and verifies it', async () => {
    const work = mkdtempSync(join(tmpdir(), 'cardsmith-customise-flash-'));
    try {
      const root = join(work, 'root');
      makeDebianRootfs(root);
      mkdirSync(join(root, 'boot'));
      writeFileSync(join(root, 'boot/vmlinuz-6.1.0-1-arm64'), Buffer.alloc(100_000, 7));
      const rootfs = join(work, 'rootfs.tar');
      execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-cf', rootfs, '-C', root, '.']);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'id')]);
      await withLoopDevice({ sizeBytes: 96 << 20 }, async (loop) => {
        const run = cli(['flash', '--board', 'qemu-virt-aarch64', '--rootfs', rootfs, '--root-size', 'fill', '--hostname', 'flashed', '--user', 'ada', '--ssh-key', join(work, 'id.pub'),
          '--device', loop.device, '--allow-loop', '--yes']);
        expect(run.status, String(run.stderr)).toBe(0);
        const fs = rootPartition(loop.backingFile);
        expect(spawnSync('e2fsck', ['-fn', fs]).status).toBe(0);
        expect(debugfsCat(fs, '/etc/hostname')).toBe('flashed\n');
        expect(debugfsStat(fs, '/home/ada/.ssh/authorized_keys')).toMatchObject({ type: 'regular', mode: 0o600, uid: 1001, gid: 1001 });
        expect(debugfsCat(fs, '/home/ada/.ssh/authorized_keys')).toBe(readFileSync(join(work, 'id.pub'), 'utf8'));
      });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
