import { describe, expect, it } from 'vitest';
import { CardsmithError } from '../../../electron/engine/errors';
import { crc32c } from '../../../electron/engine/fs/ext4/crc32c';
import { packDirectory } from '../../../electron/engine/fs/ext4/directory';
import { planExt4, writeExt4, type Ext4Options } from '../../../electron/engine/fs/ext4/ext4';
import { BlockAllocator } from '../../../electron/engine/fs/ext4/geometry';
import { buildExtentTree, extentTreeBlocks, MAX_EXTENT_LENGTH } from '../../../electron/engine/fs/ext4/inode';
import { MemorySink } from '../../../electron/engine/fs/sink';
import { newDir, type FileContent, type FileNode, type FsTree } from '../../../electron/engine/fs/tree';
import { treeFromTar } from '../../../electron/engine/fs/tree-tar';

const meta = { mode: 0o644, uid: 0, gid: 0, mtime: 1_600_000_000, xattrs: new Map<string, Uint8Array>() };

function sampleTree(fileBytes = 100_000): { tree: FsTree; file: FileNode } {
  const root = newDir({ ...meta, mode: 0o755 });
  const file: FileNode = { kind: 'file', size: fileBytes, sparseMap: null, ...meta };
  const etc = newDir({ ...meta, mode: 0o755 });
  root.entries.set('etc', etc);
  etc.entries.set('data', file);
  etc.entries.set('again', file);
  return { tree: { root, files: [file] }, file };
}

const options = (size: Ext4Options['size']): Ext4Options => ({ size, seed: 'unit', timestamp: 1_700_000_000 });

async function* contentOf(file: FileNode, byte: number): AsyncGenerator<FileContent> {
  async function* chunks(): AsyncGenerator<{ offset: number; data: Uint8Array }> {
    yield { offset: 0, data: new Uint8Array(file.size).fill(byte) };
  }
  yield { file, chunks: chunks() };
}

/** A one-entry pax archive whose path is `name`. */
function paxArchive(name: string): Uint8Array {
  const header = (path: string, type: string, size: number): Uint8Array => {
    const block = new Uint8Array(512);
    const put = (at: number, text: string): void => block.set(Buffer.from(text), at);
    put(0, path);
    put(100, '0000644\0');
    put(108, '0000000\0');
    put(116, '0000000\0');
    put(124, `${size.toString(8).padStart(11, '0')}\0`);
    put(136, '00000000000\0');
    put(148, '        ');
    put(156, type);
    put(257, 'ustar\0');
    put(263, '00');
    const sum = block.reduce((n, b) => n + b, 0);
    put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
    return block;
  };
  let record = ` path=${name}\n`;
  record = `${record.length + String(record.length).length}${record}`;
  const body = new Uint8Array(Math.ceil(record.length / 512) * 512);
  body.set(Buffer.from(record));
  return Uint8Array.from(Buffer.concat([header('PaxHeader', 'x', record.length), body, header('short', '0', 0), new Uint8Array(1024)]));
}

describe('crc32c', () => {
  it('matches the Castagnoli check value', () => {
    expect((~crc32c(0xffffffff, Buffer.from('123456789')) >>> 0).toString(16)).toBe('e3069283');
  });
});

describe('planExt4', () => {
  it('accounts for every block: data + metadata + free = size', () => {
    const { tree } = sampleTree();
    const plan = planExt4(tree, options({ kind: 'minimal', headroomBytes: 1 << 20 }));
    const r = plan.report;
    expect(r.dataBytes).toBe(Math.ceil(100_000 / 4096) * 4096);
    expect(r.dataBytes + r.metadataBytes + r.freeBytes).toBe(r.sizeBytes);
    expect(r.freeBytes).toBeGreaterThanOrEqual(1 << 20);
    expect(r.neededBytes).toBeLessThanOrEqual(r.sizeBytes);
  });

  it('counts hard links', () => {
    const { tree, file } = sampleTree();
    const plan = planExt4(tree, options({ kind: 'minimal' }));
    expect(plan.fileInodes.get(file)?.links).toBe(2);
  });

  it('fails with too-small stating needed and given bytes', () => {
    const { tree } = sampleTree(64 << 20);
    try {
      planExt4(tree, options({ kind: 'fixed', bytes: 32 << 20 }));
      throw new Error('expected too-small');
    } catch (error) {
      expect(error).toBeInstanceOf(CardsmithError);
      const info = (error as CardsmithError).info;
      expect(info.cause).toBe('too-small');
      expect(info.details?.givenBytes).toBe(32 << 20);
      expect(info.details?.neededBytes).toBeGreaterThan(64 << 20);
      expect(info.message).toMatch(/needs \d+ bytes but only 33554432/);
    }
  });

  it('sizes the journal like mke2fs unless told, and refuses sizes jbd2 cannot use', () => {
    const { tree } = sampleTree(200 << 20);
    const fixed = { kind: 'fixed', bytes: 256 << 20 } as const;
    expect(planExt4(tree, options(fixed)).geometry.journalBlocks).toBe(4096);
    const small = planExt4(tree, { ...options(fixed), journalBlocks: 1024 });
    expect(small.geometry.journalBlocks).toBe(1024);
    expect(small.report.freeBytes - planExt4(tree, options(fixed)).report.freeBytes).toBe(3072 * 4096);
    expect(() => planExt4(tree, { ...options(fixed), journalBlocks: 512 })).toThrow(/journal of 512 blocks/);
  });

  it('plans exactly the needed size when asked for it', () => {
    const { tree } = sampleTree(64 << 20);
    const needed = planExt4(tree, options({ kind: 'minimal', headroomBytes: 0 })).report.neededBytes;
    expect(planExt4(tree, options({ kind: 'fixed', bytes: needed })).report.sizeBytes).toBe(needed);
    expect(() => planExt4(tree, options({ kind: 'fixed', bytes: needed - 4096 }))).toThrow(/needs/);
  });

  it('sizes a large card by the size, with many inodes', () => {
    const { tree } = sampleTree();
    const plan = planExt4(tree, options({ kind: 'fixed', bytes: 16 * 1024 ** 3 }));
    expect(plan.geometry.groups).toBe(128);
    expect(plan.report.inodesTotal).toBeGreaterThanOrEqual((16 * 1024 ** 3) / 16384);
  });
});

describe('BlockAllocator', () => {
  it('counts the extents of an allocation and marks the same blocks as allocate()', () => {
    const full = new BlockAllocator(200_000);
    const counting = new BlockAllocator(200_000);
    for (const a of [full, counting]) for (let b = 100; b < 200_000; b += 7919) a.mark(b, 1 + (b % 13));
    for (const count of [1, 50, 40_000, 70_000, 3]) {
      const runs = full.allocate(count);
      const extents = runs?.reduce((n, r) => n + Math.ceil(r.length / MAX_EXTENT_LENGTH), 0);
      expect(extents).toBeGreaterThan(0);
      expect(counting.allocateCount(count, MAX_EXTENT_LENGTH)).toBe(extents);
      expect(counting.bits).toEqual(full.bits);
    }
    expect(full.allocate(200_000)).toBeNull();
    expect(counting.allocateCount(200_000, MAX_EXTENT_LENGTH)).toBeNull();
    expect(counting.bits).toEqual(full.bits);
  });
});

describe('ext4 structures', () => {
  it('packs a 10 000-entry directory into linear blocks', () => {
    const entries = Array.from({ length: 10_000 }, (_, i) => ({ name: Buffer.from(`entry-${i}`), ino: 12 + i, type: 1 }));
    const blocks = packDirectory(entries);
    expect(blocks.flat()).toHaveLength(10_000);
    for (const block of blocks) expect(block.reduce((n, e) => n + ((8 + e.name.length + 3) & ~3), 0)).toBeLessThanOrEqual(4096 - 12);
    expect(blocks.length).toBeLessThanOrEqual(Math.ceil((10_000 * 20) / (4096 - 12)));
  });

  it('builds an extent index when an inode cannot hold the extents', () => {
    const extents = Array.from({ length: 400 }, (_, i) => ({ logical: i * 16, physical: 1000 + i * 2, length: 1 }));
    expect(extentTreeBlocks(400)).toBe(2);
    expect(extentTreeBlocks(4)).toBe(0);
    const iblock = new Uint8Array(60);
    const blocks = buildExtentTree(extents, [50, 51], iblock, 0);
    expect(blocks.map((b) => b.block)).toEqual([50, 51]);
    const view = new DataView(iblock.buffer);
    expect(view.getUint16(0, true)).toBe(0xf30a);
    expect(view.getUint16(2, true)).toBe(2);
    expect(view.getUint16(6, true)).toBe(1);
  });

  it('writes a valid, checksummed superblock and leaves unused space unwritten', async () => {
    const { tree, file } = sampleTree();
    const plan = planExt4(tree, options({ kind: 'fixed', bytes: 256 << 20 }));
    const sink = new MemorySink(plan.report.sizeBytes);
    await writeExt4(plan, sink, contentOf(file, 0x41));
    const sb = new DataView(sink.bytes.buffer, 1024, 1024);
    expect(sb.getUint16(0x38, true)).toBe(0xef53);
    expect(sb.getUint32(0x3fc, true)).toBe(crc32c(0xffffffff, sink.bytes.subarray(1024, 1024 + 0x3fc)));
    const written = sink.mappedRanges().reduce((n, r) => n + r.end - r.start, 0);
    // Journal (32 MiB) + metadata + data; the inode tables and free space stay holes.
    expect(written).toBeLessThan(40 << 20);
  });

  it('is deterministic for the same seed and differs for another', async () => {
    const build = async (seed: string): Promise<Uint8Array> => {
      const { tree, file } = sampleTree();
      const plan = planExt4(tree, { ...options({ kind: 'minimal' }), seed });
      const sink = new MemorySink(plan.report.sizeBytes);
      await writeExt4(plan, sink, contentOf(file, 0x42));
      return sink.bytes;
    };
    const [a, b, c] = [await build('one'), await build('one'), await build('two')];
    expect(Buffer.compare(a, b)).toBe(0);
    expect(Buffer.compare(a, c)).not.toBe(0);
  });
});

describe('treeFromTar', () => {
  it('rejects a name over 255 bytes, naming the path', async () => {
    const name = `dir/${'n'.repeat(256)}`;
    const bytes = paxArchive(name);
    const error = await treeFromTar(
      async function* () {
        yield bytes;
      },
      { defaultMtime: 0 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CardsmithError);
    expect((error as CardsmithError).info.cause).toBe('bad-input');
    expect((error as CardsmithError).info.details?.path).toBe(name);
    expect((error as CardsmithError).message).toMatch(/256 bytes/);
  });
});
