import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { CardsmithError } from '../../../electron/engine/errors';
import { editExt4, MAX_EDIT_BYTES, type Ext4File } from '../../../electron/engine/fs/ext4/edit';
import type { Patch } from '../../../electron/engine/flash/patch';
import { seededBytes, fileReadAt } from '../../helpers/bytes';
import { writeExt4Image } from '../../helpers/ext4-image';
import { describeWith } from '../../helpers/needs';

const dir = mkdtempSync(join(tmpdir(), 'cardsmith-ext4edit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T = Date.UTC(2026, 11, 7, 3, 0, 0) / 1000;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** An ext4 image made by mkfs.ext4 -d (at byte `offset` of the file), Armbian-like files in it. */
function makeImage(name: string, mkfs: string[], mib = 64, offset = 0, extra: (tree: string) => void = () => {}): string {
  const tree = join(dir, `${name}.tree`);
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(join(tree, 'etc'), { recursive: true });
  mkdirSync(join(tree, 'root'), { recursive: true });
  writeFileSync(join(tree, 'etc/hostname'), 'orangepi\n');
  writeFileSync(join(tree, 'etc/armbian-release'), 'BOARD=orangepi5\nVERSION=25.2.1\n');
  writeFileSync(join(tree, 'root/.not_logged_in_yet'), '');
  writeFileSync(join(tree, 'etc/big'), seededBytes(200_000, 3));
  extra(tree);
  return writeExt4Image(join(dir, name), tree, { sizeBytes: mib * 1024 * 1024, start: offset, mkfs });
}

function apply(image: string, patches: readonly Patch[], name: string): string {
  const copy = join(dir, name);
  copyFileSync(image, copy);
  const fd = openSync(copy, 'r+');
  try {
    for (const p of patches) writeSync(fd, p.bytes, 0, p.bytes.length, p.offset);
  } finally {
    closeSync(fd);
  }
  return copy;
}

/** The filesystem alone, for e2fsprogs (they take no offset for a partition inside a file). */
function fsOf(image: string, offset: number): string {
  if (offset === 0) return image;
  const out = `${image}.part`;
  execFileSync('dd', [`if=${image}`, `of=${out}`, 'bs=1M', `skip=${offset}`, 'iflag=skip_bytes', 'status=none']);
  return out;
}

function fsck(fs: string): { status: number | null; output: string } {
  const run = spawnSync('e2fsck', ['-fn', fs], { encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

function debugfs(fs: string, request: string): string {
  return execFileSync('debugfs', ['-R', request, fs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

function debugfsBytes(fs: string, path: string): Buffer {
  return execFileSync('debugfs', ['-R', `cat ${path}`, fs], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 16 << 20 });
}

const preset = text("PRESET_USER_NAME='ada'\nPRESET_TIMEZONE='Europe/London'\n");

describeWith(['tool:mkfs.ext4', 'tool:e2fsck', 'tool:debugfs'], 'ext4 in-place edit (mkfs.ext4 images, e2fsck and debugfs as oracles)', () => {
  const variants: [string, string[], RegExp][] = [
    ['4k-default', ['-b', '4096'], /features:.* 64bit flex_bg .*metadata_csum/],
    ['1k', ['-b', '1024'], /features:.* 64bit flex_bg .*metadata_csum/],
    ['4k-no-csum', ['-b', '4096', '-O', '^metadata_csum'], /features:(?!.*(metadata_csum|uninit_bg))/],
    ['1k-uninit-bg', ['-b', '1024', '-O', '^metadata_csum,uninit_bg'], /features:.*uninit_bg/],
    // 32-byte descriptors; a UUID changed after mkfs, so only the stored checksum seed is right.
    ['4k-32bit-seed', ['-b', '4096', '-O', '^64bit,metadata_csum_seed'], /features:(?!.*64bit).*metadata_csum_seed/],
    // e2fsprogs 1.47's newer defaults (Ubuntu 24.04, Debian 13) add orphan_file.
    ['4k-orphan-file', ['-b', '4096', '-O', 'orphan_file'], /features:.*orphan_file/],
  ];
  for (const [name, mkfs, features] of variants) {
    it(`replaces and creates files on ${name} (e2fsck clean, debugfs reads content, mode and owner)`, async () => {
      const offset = 1 << 20;
      const image = makeImage(name, mkfs, 64, offset);
      if (mkfs.join().includes('metadata_csum_seed')) {
        const fs = fsOf(image, offset);
        execFileSync('debugfs', ['-w', '-R', 'ssv uuid 01234567-89ab-4cde-8f01-23456789abcd', fs], { stdio: 'ignore' });
        execFileSync('dd', [`if=${fs}`, `of=${image}`, 'bs=1M', `seek=${offset}`, 'oflag=seek_bytes', 'conv=notrunc', 'status=none']);
      }
      const before = debugfs(fsOf(image, offset), 'stats');
      const files: Ext4File[] = [
        { path: '/root/.not_logged_in_yet', bytes: preset, mode: 0o600, uid: 0, gid: 0 },
        { path: '/etc/hostname', bytes: text('cardsmith\n') },
        { path: '/root/created.txt', bytes: seededBytes(70_000, 5), mode: 0o640, uid: 1000, gid: 1001 },
        { path: '/etc/big', bytes: text('small now\n') },
        { path: '/empty', bytes: new Uint8Array(0), mode: 0o600 },
      ];
      const patches = await editExt4(fileReadAt(image), offset, files, T);
      for (const p of patches) {
        expect(p.offset % 512).toBe(0);
        expect(p.bytes.length % 512).toBe(0);
        expect(p.offset).toBeGreaterThanOrEqual(offset);
      }
      const fs = fsOf(apply(image, patches, `${name}.edited`), offset);
      const check = fsck(fs);
      expect(check.output).not.toMatch(/fix|wrong|differ|invalid|checksum/i);
      expect(check.status).toBe(0);
      expect(debugfsBytes(fs, '/root/.not_logged_in_yet').equals(Buffer.from(preset))).toBe(true);
      expect(debugfsBytes(fs, '/etc/hostname').toString()).toBe('cardsmith\n');
      expect(debugfsBytes(fs, '/etc/big').toString()).toBe('small now\n');
      expect(debugfsBytes(fs, '/root/created.txt').equals(Buffer.from(seededBytes(70_000, 5)))).toBe(true);
      const stat = debugfs(fs, 'stat /root/.not_logged_in_yet');
      expect(stat).toMatch(/Mode:\s+0600/);
      expect(stat).toMatch(/User:\s+0\s+Group:\s+0/);
      const created = debugfs(fs, 'stat /root/created.txt');
      expect(created).toMatch(/Type: regular\s+Mode:\s+0640/);
      expect(created).toMatch(/User:\s+1000\s+Group:\s+1001/);
      expect(created).toMatch(/Size: 70000/);
      expect(debugfs(fs, 'stat /etc/hostname')).toMatch(/Mode:\s+0644/);
      expect(debugfs(fs, 'stat /empty')).toMatch(/Size: 0\b/);
      // The free-block count moved by exactly the blocks the edit took and gave back.
      const free = (stats: string): number => Number(/Free blocks:\s+(\d+)/.exec(stats)![1]);
      const bs = Number(/Block size:\s+(\d+)/.exec(before)![1]);
      const taken = Math.ceil(70_000 / bs) + 1 /* preset, was empty */ - (Math.ceil(200_000 / bs) - 1); /* big shrank to one block */
      expect(free(debugfs(fs, 'stats'))).toBe(free(before) - taken);
      expect(before).toMatch(features);
    });
  }

  it('grows a full linear directory by a block', async () => {
    const image = makeImage('grow', ['-b', '1024'], 32, 0, (tree) => {
      mkdirSync(join(tree, 'root/many'));
      for (let i = 0; i < 40; i++) writeFileSync(join(tree, `root/many/a-rather-long-file-name-to-fill-the-block-${i}`), '');
    });
    const blocksBefore = /Size: (\d+)/.exec(debugfs(image, 'stat /root/many'))![1];
    const files = Array.from({ length: 30 }, (_, i): Ext4File => ({ path: `/root/many/another-rather-long-name-to-need-a-new-block-${i}`, bytes: text(`${i}\n`) }));
    const fs = apply(image, await editExt4(fileReadAt(image), 0, files, T), 'grow.edited');
    const check = fsck(fs);
    expect(check.status, check.output).toBe(0);
    expect(Number(/Size: (\d+)/.exec(debugfs(fs, 'stat /root/many'))![1])).toBeGreaterThan(Number(blocksBefore));
    expect(debugfsBytes(fs, '/root/many/another-rather-long-name-to-need-a-new-block-29').toString()).toBe('29\n');
    expect(debugfs(fs, 'ls -l /root/many').match(/another-rather-long/g)).toHaveLength(30);
  });

  it('refuses a full filesystem, naming the bytes and the offset, before any patch', async () => {
    const image = makeImage('full', ['-b', '1024', '-m', '0'], 8, 0, (tree) => writeFileSync(join(tree, 'fill'), seededBytes(5_500_000, 9)));
    const error = await editExt4(fileReadAt(image), 0, [{ path: '/root/more', bytes: seededBytes(3_000_000, 1) }], T).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CardsmithError);
    expect((error as CardsmithError).info.cause).toBe('too-small');
    expect((error as Error).message).toMatch(/at byte 0 has no room for \/root\/more: 3000\d+ bytes needed/);
  });

  it('refuses inline_data, casefold, a missing directory, a too-large file and a directory in the way', async () => {
    const inline = makeImage('inline', ['-b', '4096', '-O', 'inline_data'], 16);
    await expect(editExt4(fileReadAt(inline), 0, [{ path: '/root/x', bytes: text('x') }], T)).rejects.toThrow(/uses inline_data, which Cardsmith cannot edit in place/);
    const casefold = makeImage('casefold', ['-b', '4096', '-O', 'casefold'], 16);
    await expect(editExt4(fileReadAt(casefold), 0, [{ path: '/root/x', bytes: text('x') }], T)).rejects.toThrow(/uses casefold/);
    const plain = makeImage('plain', ['-b', '4096'], 16);
    await expect(editExt4(fileReadAt(plain), 0, [{ path: '/nope/x', bytes: text('x') }], T)).rejects.toThrow(/needs the directory "\/nope", which does not exist/);
    await expect(editExt4(fileReadAt(plain), 0, [{ path: '/root', bytes: text('x') }], T)).rejects.toThrow(/"\/root" exists and is not a regular file/);
    await expect(editExt4(fileReadAt(plain), 0, [{ path: '/root/x', bytes: new Uint8Array(MAX_EDIT_BYTES + 1) }], T)).rejects.toThrow(/at most 4194304 bytes/);
    await expect(editExt4(fileReadAt(plain), 4096, [{ path: '/root/x', bytes: text('x') }], T)).rejects.toThrow(/No ext4 superblock at byte 5120/);
  });

  it('refuses to add to an htree-indexed directory but still finds and replaces files in it', async () => {
    const image = makeImage('htree', ['-b', '1024'], 32, 0, (tree) => {
      mkdirSync(join(tree, 'etc/lots'));
      for (let i = 0; i < 300; i++) writeFileSync(join(tree, `etc/lots/entry-${i}`), `${i}`);
    });
    // e2fsck -D rebuilds (indexes) every directory of more than one block.
    spawnSync('e2fsck', ['-fyD', image]);
    expect(debugfs(image, 'stat /etc/lots')).toMatch(/Flags: 0x81000/);
    await expect(editExt4(fileReadAt(image), 0, [{ path: '/etc/lots/new', bytes: text('x') }], T)).rejects.toThrow(/"\/etc\/lots" is htree-indexed/);
    const fs = apply(image, await editExt4(fileReadAt(image), 0, [{ path: '/etc/lots/entry-250', bytes: text('replaced') }], T), 'htree.edited');
    expect(fsck(fs).status).toBe(0);
    expect(debugfsBytes(fs, '/etc/lots/entry-250').toString()).toBe('replaced');
  });
});
