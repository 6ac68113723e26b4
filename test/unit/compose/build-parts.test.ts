import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { findBoard } from '../../../electron/engine/boards/db';
import { blockRuns, bmapXml } from '../../../electron/engine/compose/bmap';
import { captureContents, compareVersions, findBootArtifacts } from '../../../electron/engine/compose/boot-artifacts';
import { extlinuxConf, kernelCommandLine } from '../../../electron/engine/compose/boot-config';
import { bootTree, bytesFile } from '../../../electron/engine/compose/boot-tree';
import { layoutOf, planDisk, rootPartUuid } from '../../../electron/engine/compose/disk-plan';
import { newDir, type DirNode, type FileContent, type FileNode, type FsTree } from '../../../electron/engine/fs/tree';

const MIB = 1024 * 1024;
const meta = { mode: 0o644, uid: 0, gid: 0, mtime: 0, xattrs: new Map<string, Uint8Array>() };

function file(size: number): FileNode {
  return { kind: 'file', size, sparseMap: null, ...meta };
}
function dirAt(root: DirNode, path: string): DirNode {
  let dir = root;
  for (const part of path.split('/')) {
    let next = dir.entries.get(part);
    if (!next) {
      next = newDir({ ...meta, mode: 0o755 });
      dir.entries.set(part, next);
    }
    if (next.kind !== 'dir') throw new Error(path);
    dir = next;
  }
  return dir;
}
function treeWith(paths: Record<string, number>): FsTree {
  const root = newDir({ ...meta, mode: 0o755 });
  const files: FileNode[] = [];
  for (const [path, size] of Object.entries(paths)) {
    const parts = path.split('/');
    const name = parts.pop()!;
    const node = file(size);
    dirAt(root, parts.join('/')).entries.set(name, node);
    files.push(node);
  }
  return { root, files };
}

describe('bmap', () => {
  it('rounds written byte ranges out to whole blocks and merges neighbours', () => {
    expect(blockRuns([{ start: 0, end: 512 }, { start: 4000, end: 4200 }, { start: 8192, end: 8193 }, { start: 40960, end: 41000 }], 1 << 20)).toEqual([
      { first: 0, last: 2 },
      { first: 10, last: 10 },
    ]);
  });

  it('carries a file checksum computed with the checksum zeroed, as bmaptool checks it', () => {
    const xml = bmapXml(8192, [{ first: 0, last: 1, sha256: 'ab'.repeat(32) }]);
    const stored = /<BmapFileChecksum> ([0-9a-f]{64}) <\/BmapFileChecksum>/.exec(xml)![1]!;
    expect(createHash('sha256').update(xml.replace(stored, '0'.repeat(64))).digest('hex')).toBe(stored);
    expect(xml).toContain('<MappedBlocksCount> 2 </MappedBlocksCount>');
    expect(xml).toContain(`<Range chksum="${'ab'.repeat(32)}"> 0-1 </Range>`);
  });
});

describe('boot configuration', () => {
  it('puts root by PARTUUID and the board console on the command line, unless the user sets them', () => {
    expect(kernelCommandLine('1234abcd-02', 'ttyS0,115200', undefined)).toBe('root=PARTUUID=1234abcd-02 rootwait rw console=ttyS0,115200');
    expect(kernelCommandLine('1234abcd-02', 'ttyS0,115200', 'quiet console=tty1')).toBe('root=PARTUUID=1234abcd-02 rootwait rw quiet console=tty1');
    expect(kernelCommandLine('x', undefined, 'root=/dev/mmcblk0p2')).toBe('root=/dev/mmcblk0p2');
  });

  it('writes extlinux.conf with kernel, initrd, fdt and append', () => {
    const text = extlinuxConf({ title: 'Board', kernel: '/vmlinuz-6.1', initrd: '/initrd.img-6.1', fdt: '/dtbs/a.dtb', append: 'root=PARTUUID=x' });
    expect(text).toMatch(/^\s+linux \/vmlinuz-6\.1$/m);
    expect(text).toMatch(/^\s+initrd \/initrd\.img-6\.1$/m);
    expect(text).toMatch(/^\s+fdt \/dtbs\/a\.dtb$/m);
    expect(text).toMatch(/^\s+append root=PARTUUID=x$/m);
  });

  it('gives a Raspberry Pi config.txt, u-boot.bin, the dtb in the FAT root, and refuses missing firmware', async () => {
    const board = findBoard('rpi-3-b');
    const common = { board, mtime: 0, kernel: bytesFile(new Uint8Array(10)), kernelName: 'vmlinuz-6.1', initrd: null, initrdName: '', dtb: bytesFile(new Uint8Array(5)), uboot: bytesFile(new Uint8Array(7)), append: 'root=x' };
    expect(() => bootTree({ ...common, hostFiles: [] })).toThrow(/bootcode\.bin, start\.elf, fixup\.dat/);
    const firmware = ['bootcode.bin', 'start.elf', 'fixup.dat'].map((name) => ({ kind: 'file' as const, name, size: 1, mtime: 0, content: bytesFile(new Uint8Array(1)).content }));
    const tree = bootTree({ ...common, hostFiles: firmware });
    expect(tree.children.map((n) => n.name).sort()).toEqual(['bcm2837-rpi-3-b.dtb', 'bootcode.bin', 'config.txt', 'extlinux', 'fixup.dat', 'start.elf', 'u-boot.bin', 'vmlinuz-6.1']);
    const config = tree.children.find((n) => n.name === 'config.txt');
    if (config?.kind !== 'file') throw new Error('no config.txt');
    let text = '';
    for await (const chunk of config.content()) text += new TextDecoder().decode(chunk);
    // The firmware must be told which device tree to load: its default names are the vendor ones.
    expect(text.split('\n')).toEqual(expect.arrayContaining(['arm_64bit=1', 'kernel=u-boot.bin', 'device_tree=bcm2837-rpi-3-b.dtb']));
  });

  it('puts the dtb under /dtbs for U-Boot boards and refuses a board without its dtb', () => {
    const board = findBoard('rock64');
    const common = { board, mtime: 0, hostFiles: [], kernel: bytesFile(new Uint8Array(10)), kernelName: 'vmlinuz-6.1', initrd: null, initrdName: '', uboot: null, append: 'root=x' };
    const tree = bootTree({ ...common, dtb: bytesFile(new Uint8Array(5)) });
    expect(tree.children.find((n) => n.name === 'dtbs')).toMatchObject({ kind: 'dir', children: [{ kind: 'dir', name: 'rockchip', children: [{ name: 'rk3328-rock64.dtb' }] }] });
    expect(() => bootTree({ ...common, dtb: null })).toThrow(/rockchip\/rk3328-rock64\.dtb/);
  });
});

describe('boot artifacts in the rootfs', () => {
  it('takes the newest kernel, its initrd and the board dtb from the Debian places', () => {
    const tree = treeWith({
      'boot/vmlinuz-6.1.0-9-arm64': 100,
      'boot/vmlinuz-6.1.0-13-arm64': 200,
      'boot/initrd.img-6.1.0-13-arm64': 50,
      'boot/initrd.img-6.1.0-9-arm64': 40,
      'usr/lib/linux-image-6.1.0-13-arm64/rockchip/rk3328-rock64.dtb': 30,
    });
    const found = findBootArtifacts(tree, 'rockchip/rk3328-rock64.dtb');
    expect(found.version).toBe('6.1.0-13-arm64');
    expect([found.kernel?.node.size, found.initrd?.node.size, found.dtb?.path]).toEqual([200, 50, 'usr/lib/linux-image-6.1.0-13-arm64/rockchip/rk3328-rock64.dtb']);
    expect(compareVersions('6.10.0', '6.9.1')).toBeGreaterThan(0);
  });

  it('finds dtbs under /boot/dtbs and reports absence as null', () => {
    const tree = treeWith({ 'boot/vmlinuz-6.6': 1, 'boot/dtbs/6.6/allwinner/x.dtb': 2 });
    expect(findBootArtifacts(tree, 'allwinner/x.dtb').dtb?.path).toBe('boot/dtbs/6.6/allwinner/x.dtb');
    expect(findBootArtifacts(treeWith({}), 'x.dtb')).toEqual({ version: null, kernel: null, initrd: null, dtb: null });
  });

  it('captures wanted files while passing the stream through untouched', async () => {
    const a = file(6);
    const b = file(3);
    async function* chunks(parts: [number, string][]) {
      for (const [offset, text] of parts) yield { offset, data: new TextEncoder().encode(text) };
    }
    async function* contents(): AsyncGenerator<FileContent> {
      yield { file: a, chunks: chunks([[0, 'abc'], [3, 'def']]) };
      yield { file: b, chunks: chunks([[0, 'xyz']]) };
    }
    const { stream, captured } = captureContents(contents(), new Set([a]));
    let seen = '';
    for await (const content of stream) for await (const chunk of content.chunks) seen += new TextDecoder().decode(chunk.data);
    expect(seen).toBe('abcdefxyz');
    expect(new TextDecoder().decode(captured.get(a))).toBe('abcdef');
    expect(captured.has(b)).toBe(false);
  });
});

describe('disk placement', () => {
  it('starts the boot partition after the Rockchip loader area and matches the seeded PARTUUID', async () => {
    const board = findBoard('rock64');
    const plan = planDisk({ board, table: 'mbr', loaderWrites: board.writes, bootBytes: 32 * MIB, bootFat: 'fat16', rootBytes: 100 * MIB + 5, seed: 's' });
    expect(plan.boot.start).toBe(16 * MIB);
    expect(plan.root.start).toBe(48 * MIB);
    expect(plan.root.size).toBe(101 * MIB);
    expect(plan.sizeBytes).toBe(149 * MIB);
    const layout = await layoutOf(plan);
    expect(layout.partitions.map((p) => [p.start, p.size, p.type, p.bootable, p.uuid])).toEqual([
      [16 * MIB, 32 * MIB, '0x0e', true, plan.boot.partUuid],
      [48 * MIB, 101 * MIB, '0x83', false, rootPartUuid('mbr', 's')],
    ]);
  });

  it('starts the boot partition at 1 MiB on a board with no loader before it', async () => {
    const board = findBoard('qemu-virt-aarch64');
    const plan = planDisk({ board, table: 'mbr', loaderWrites: [], bootBytes: 16 * MIB, bootFat: 'fat16', rootBytes: 64 * MIB, seed: 's' });
    expect(plan.boot.start).toBe(MIB);
    expect(plan.root.start).toBe(17 * MIB);
    expect(plan.sizeBytes).toBe(81 * MIB);
    const gpt = planDisk({ board, table: 'gpt', loaderWrites: [], bootBytes: 16 * MIB, bootFat: 'fat16', rootBytes: 64 * MIB, seed: 's' });
    expect(gpt.boot.start).toBe(MIB);
    expect((await layoutOf(gpt)).problems).toEqual([]);
  });

  it('moves the GPT entry array past the sunxi loader at 8 KiB', async () => {
    const board = findBoard('orangepi-plus');
    const plan = planDisk({ board, table: 'gpt', loaderWrites: board.writes, bootBytes: 32 * MIB, bootFat: 'fat16', rootBytes: 64 * MIB, seed: 's' });
    const layout = await layoutOf(plan);
    expect(layout.table).toBe('gpt');
    expect(layout.problems).toEqual([]);
    const entries = layout.regions.find((r) => r.what === 'gpt-primary-entries')!;
    expect(entries.start).toBeGreaterThanOrEqual(8192 + board.writes[0]!.maxBytes);
    expect(layout.partitions[1]!.uuid).toBe(rootPartUuid('gpt', 's'));
    expect(plan.boot.start).toBeGreaterThanOrEqual(entries.end);
  });
});
