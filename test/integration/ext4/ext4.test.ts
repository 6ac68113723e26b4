import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, closeSync, ftruncateSync, readSync, linkSync, lutimesSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../../helpers/needs';
import { buildImage, fsck, snapshot, withMountedImage, xattrs } from './oracle';

const NEEDS = ['root', 'tool:tar', 'tool:e2fsck', 'tool:losetup', 'tool:getfattr', 'tool:setfattr', 'tool:mknod', 'tool:xz', 'tool:zstd', 'tool:gzip', 'tool:python3'] as const;

/** security.capability v2 granting cap_net_raw, effective. */
const CAP_NET_RAW = '0x0100000200200000000000000000000000000000';

function makeRootfs(root: string): void {
  const at = (...parts: string[]): string => join(root, ...parts);
  mkdirSync(at('etc'), { recursive: true });
  mkdirSync(at('big-dir'));
  mkdirSync(at('dev'));
  mkdirSync(at('tmp'));
  writeFileSync(at('etc', 'hostname'), 'cardsmith\n');
  writeFileSync(at('etc', 'shadow'), 'root:*:1::::::\n', { mode: 0o640 });
  chownSync(at('etc', 'shadow'), 0, 42);
  for (let i = 0; i < 10_000; i++) writeFileSync(at('big-dir', `entry-${i.toString().padStart(5, '0')}`), i % 100 === 0 ? `${i}\n` : '');
  writeFileSync(at('a'.repeat(255)), '255 ascii\n');
  writeFileSync(at(`${'é'.repeat(127)}x`), '255 bytes of utf-8\n');
  writeFileSync(at('ünïcødé 文件 🙂'), 'unicode\n');
  // A 2 GiB sparse file with data at the start, the middle (mid-block) and the last byte.
  const sparse = openSync(at('sparse-2g'), 'w');
  writeSync(sparse, Buffer.from('start'), 0, 5, 0);
  writeSync(sparse, Buffer.from('middle'), 0, 6, (1 << 30) + 1000);
  ftruncateSync(sparse, 2 ** 31);
  writeSync(sparse, Buffer.from('!'), 0, 1, 2 ** 31 - 1);
  closeSync(sparse);
  // 400 data blocks separated by holes: more extents than an inode holds, so an index block.
  const fragmented = openSync(at('fragmented'), 'w');
  const block = Buffer.alloc(4096, 0x5a);
  for (let i = 0; i < 400; i++) writeSync(fragmented, block, 0, block.length, i * 65536);
  closeSync(fragmented);
  // A multi-extent dense file (> 128 MiB would be slow here; 3 MiB of pseudo-random data).
  const dense = Buffer.alloc(3 << 20);
  for (let i = 0; i < dense.length; i += 32) createHash('sha256').update(String(i)).digest().copy(dense, i);
  writeFileSync(at('dense.bin'), dense);
  symlinkSync('hostname', at('etc', 'short-link'));
  symlinkSync(`/${'target/'.repeat(8)}end70`.slice(0, 70), at('link-70'));
  symlinkSync('x'.repeat(59), at('link-59'));
  writeFileSync(at('hard-a'), 'group one\n');
  linkSync(at('hard-a'), at('etc', 'hard-b'));
  linkSync(at('hard-a'), at('big-dir', 'hard-c'));
  writeFileSync(at('hard-x'), 'group two\n');
  linkSync(at('hard-x'), at('tmp', 'hard-y'));
  execFileSync('mknod', [at('dev', 'null'), 'c', '1', '3']);
  execFileSync('mknod', [at('dev', 'mmcblk0p1'), 'b', '179', '1']);
  execFileSync('mknod', [at('dev', 'big-minor'), 'c', '300', '70000']);
  execFileSync('mkfifo', [at('dev', 'fifo')]);
  writeFileSync(at('ping'), 'not really ping\n', { mode: 0o4755 });
  execFileSync('setfattr', ['-n', 'security.capability', '-v', CAP_NET_RAW, at('ping')]);
  execFileSync('setfattr', ['-n', 'user.comment', '-v', 'small', at('etc', 'hostname')]);
  execFileSync('setfattr', ['-n', 'user.big', '-v', `0x${'ab'.repeat(600)}`, at('dense.bin')]);
  execFileSync('chmod', ['1777', at('tmp')]);
  chownSync(at('tmp', 'hard-y'), 1000, 1000);
  utimesSync(at('etc', 'hostname'), 1_000_000_000, 1_000_000_000.5);
  lutimesSync(at('etc', 'short-link'), 1_200_000_000, 1_200_000_000);
}

describeWith(NEEDS, 'ext4 image from a tarball, judged by e2fsck and the kernel', () => {
  let dir: string;
  let root: string;
  let tarball: string;
  let image: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cardsmith-ext4-'));
    root = join(dir, 'rootfs');
    mkdirSync(root);
    makeRootfs(root);
    tarball = join(dir, 'rootfs.tar');
    execFileSync('tar', ['-C', root, '--format=pax', '--xattrs', '--xattrs-include=*', '--sparse', '--numeric-owner', '-cf', tarball, '.']);
    image = join(dir, 'root.img');
    await buildImage(tarball, image);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes e2fsck -fn', () => {
    const result = fsck(image);
    expect(result.output).not.toMatch(/Fix\?|WARNING|corrupt/i);
    expect(result.status).toBe(0);
  });

  it('mounts read-only and holds the same tree, contents, links and xattrs', async () => {
    const expected = snapshot(root);
    const expectedXattrs = xattrs(root);
    expect(expectedXattrs.get('ping')).toContain(`security.capability=${CAP_NET_RAW}`);
    expect(expectedXattrs.get('dense.bin')).toContain('user.big=0xabab');
    expect(expectedXattrs.get('etc/hostname')).toContain('user.comment=');
    await withMountedImage(image, (mnt) => {
      const actual = snapshot(mnt, ['lost+found']);
      const actualRoot = actual.get('')!;
      // lost+found is the one entry the filesystem adds: one more subdirectory link at the root.
      actual.set('', { ...actualRoot, nlink: actualRoot.nlink - 1 });
      expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [path, entry] of expected) {
        const got = actual.get(path);
        if (entry.type === 'dir') expect({ path, ...got, size: undefined }).toEqual({ path, ...entry, size: undefined });
        else expect({ path, ...got }).toEqual({ path, ...entry });
      }
      expect(xattrs(mnt)).toEqual(expectedXattrs);
      expect(statSync(join(mnt, 'lost+found')).mode & 0o7777).toBe(0o700);
    });
  });

  it('builds the same tree straight from the directory, sockets included', async () => {
    const fromDir = join(dir, 'from-dir.img');
    // tar cannot carry sockets; a directory can.
    const socket = join(root, 'tmp', 'daemon.sock');
    const before = statSync(join(root, 'tmp'));
    const keepTimes = (): void => utimesSync(join(root, 'tmp'), before.atime, before.mtime);
    execFileSync('python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', socket]);
    keepTimes();
    await buildImage(root, fromDir).finally(() => {
      rmSync(socket);
      keepTimes();
    });
    expect(fsck(fromDir).status).toBe(0);
    await withMountedImage(fromDir, (mnt) => {
      const actual = snapshot(mnt, ['lost+found']);
      actual.set('', { ...actual.get('')!, nlink: actual.get('')!.nlink - 1 });
      const expected = snapshot(root);
      expect(actual.get('tmp/daemon.sock')?.type).toBe('socket');
      actual.delete('tmp/daemon.sock');
      for (const [path, entry] of expected) {
        if (entry.type === 'dir') expect({ path, ...actual.get(path), size: undefined }).toEqual({ path, ...entry, size: undefined });
        else expect({ path, ...actual.get(path) }).toEqual({ path, ...entry });
      }
      expect(actual.size).toBe(expected.size);
      expect(xattrs(mnt)).toEqual(xattrs(root));
      expect(statSync(join(mnt, 'sparse-2g')).blocks * 512).toBeLessThanOrEqual(4 * 4096);
    });
    rmSync(fromDir);
  });

  for (const [format, command] of [
    ['gz', ['gzip', '-1']],
    ['xz', ['xz', '-0', '-T1']],
    ['zst', ['zstd', '-1', '-q']],
  ] as const) {
    it(`reads a ${format}-compressed tarball`, async () => {
      const small = join(dir, `small-${format}.tar`);
      const excluded = ['./big-dir', './sparse-2g', './dense.bin'];
      execFileSync('tar', ['-C', root, '--format=pax', '--xattrs', '--xattrs-include=*', '--numeric-owner', ...excluded.map((e) => `--exclude=${e}`), '-cf', small, '.']);
      execFileSync(command[0], [...command.slice(1), small]);
      const image = join(dir, `small-${format}.img`);
      await buildImage(`${small}.${format}`, image);
      expect(fsck(image).status).toBe(0);
      await withMountedImage(image, (mnt) => {
        const actual = snapshot(mnt, ['lost+found']);
        const expected = snapshot(root, excluded.map((e) => e.slice(2)));
        expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
        expect(actual.get('ping')).toEqual(expected.get('ping'));
        expect(actual.get('etc/hostname')).toEqual(expected.get('etc/hostname'));
      });
      rmSync(image);
    });
  }

  it('keeps holes as holes', async () => {
    await withMountedImage(image, (mnt) => {
      const path = join(mnt, 'sparse-2g');
      const sparse = statSync(path);
      expect(sparse.size).toBe(2 ** 31);
      expect(sparse.blocks * 512).toBeLessThanOrEqual(4 * 4096);
      const fd = openSync(path, 'r');
      const read = (offset: number, length: number): string => {
        const bytes = Buffer.alloc(length);
        readSync(fd, bytes, 0, length, offset);
        return bytes.toString('latin1');
      };
      try {
        expect(read(0, 8)).toBe('start\0\0\0');
        expect(read((1 << 30) + 996, 12)).toBe('\0\0\0\0middle\0\0');
        expect(read(2 ** 31 - 2, 2)).toBe('\0!');
        expect(read(1 << 29, 4)).toBe('\0\0\0\0');
      } finally {
        closeSync(fd);
      }
      const fragmented = statSync(join(mnt, 'fragmented'));
      // 400 data blocks plus at most a couple of extent index blocks.
      expect(fragmented.blocks * 512).toBeLessThanOrEqual(403 * 4096);
    });
  });

  it('is byte-identical when built again from the same inputs', async () => {
    const again = join(dir, 'again.img');
    await buildImage(tarball, again);
    const hash = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
    expect(hash(again)).toBe(hash(image));
    rmSync(again);
  });

  it('builds at a fixed larger size (fill the card), checks clean, and survives read-write use', async () => {
    const big = join(dir, 'big.img');
    const plan = await buildImage(tarball, big, { size: { kind: 'fixed', bytes: 3 * 1024 ** 3 } });
    expect(plan.geometry.groups).toBe(24);
    expect(fsck(big).status).toBe(0);
    // Lazy inode tables: far less than the filesystem size is actually written.
    const onDisk = statSync(big).blocks * 512;
    expect(onDisk).toBeLessThan(150 * 1024 ** 2);
    // The kernel can use it read-write (journal, uninitialised groups) and leaves it clean.
    const mnt = mkdtempSync(join(tmpdir(), 'cardsmith-rw-'));
    const device = execFileSync('losetup', ['-f', '--show', big], { encoding: 'utf8' }).trim();
    try {
      execFileSync('mount', ['-t', 'ext4', device, mnt]);
      try {
        mkdirSync(join(mnt, 'new'));
        for (let i = 0; i < 2000; i++) writeFileSync(join(mnt, 'new', `f${i}`), `${i}\n`);
        writeFileSync(join(mnt, 'new', 'big'), Buffer.alloc(40 << 20, 7));
        writeFileSync(join(mnt, 'etc', 'hostname'), 'changed\n');
      } finally {
        execFileSync('umount', [mnt]);
      }
    } finally {
      execFileSync('losetup', ['-d', device]);
      rmSync(mnt, { recursive: true, force: true });
    }
    expect(fsck(big).status).toBe(0);
    rmSync(big);
  });
});

describeWith(NEEDS, 'ext4 image from an empty rootfs', () => {
  it('checks clean and mounts with only lost+found', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardsmith-ext4-empty-'));
    try {
      mkdirSync(join(dir, 'empty'));
      execFileSync('tar', ['-C', join(dir, 'empty'), '-cf', join(dir, 'empty.tar'), '.']);
      const image = join(dir, 'empty.img');
      const plan = await buildImage(join(dir, 'empty.tar'), image);
      expect(plan.report.dataBytes).toBe(0);
      expect(fsck(image).status).toBe(0);
      await withMountedImage(image, (mnt) => {
        expect([...snapshot(mnt).keys()].sort()).toEqual(['', 'lost+found']);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
