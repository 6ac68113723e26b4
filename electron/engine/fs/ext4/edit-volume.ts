/**
 * An existing ext4 filesystem opened for in-place editing (edit.ts): its superblock, group
 * descriptors, bitmaps and inodes read through a ReadAt and kept in memory, changed there, and
 * handed back as whole-block patches. Only feature sets whose every on-disk consequence this code
 * maintains are opened; anything else is refused by name before an edit starts.
 *
 * Checksums kept: with metadata_csum the superblock, every group descriptor (crc32c, low 16
 * bits), block and inode bitmaps, inodes and directory-block tails; with uninit_bg (gdt_csum)
 * the descriptors' crc16. Groups still marked BLOCK_UNINIT / INODE_UNINIT are never allocated
 * from (their bitmaps were never written), so they stay exactly as they are.
 */
import type { ReadAt } from '../../disk/read-layout';
import { CardsmithError } from '../../errors';
import type { Patch } from '../../flash/patch';
import { crc32c, crc32cU32 } from './crc32c';
import { inodeSeed } from './inode';

const INCOMPAT_NAMES: Record<number, string> = {
  0x1: 'compression',
  0x4: 'needs_recovery',
  0x8: 'journal_dev',
  0x10: 'meta_bg',
  0x100: 'mmp',
  0x400: 'ea_inode',
  0x1000: 'dirdata',
  0x4000: 'large_dir',
  0x8000: 'inline_data',
  0x10000: 'encrypt',
  0x20000: 'casefold',
};
/** filetype, extent, 64bit, flex_bg, metadata_csum_seed. */
const INCOMPAT_OK = 0x2 | 0x40 | 0x80 | 0x200 | 0x2000;
const RO_COMPAT_NAMES: Record<number, string> = {
  0x4: 'btree_dir',
  0x80: 'snapshot',
  0x100: 'quota',
  0x200: 'bigalloc',
  0x800: 'replica',
  0x1000: 'read-only',
  0x2000: 'project',
  0x4000: 'shared_blocks',
  0x8000: 'verity',
  0x10000: 'orphan_present',
};
/** sparse_super, large_file, huge_file, gdt_csum (uninit_bg), dir_nlink, extra_isize, metadata_csum. */
const RO_COMPAT_OK = 0x1 | 0x2 | 0x8 | 0x10 | 0x20 | 0x40 | 0x400;
const RO_GDT_CSUM = 0x10;
const RO_METADATA_CSUM = 0x400;
const INCOMPAT_64BIT = 0x80;
const INCOMPAT_CSUM_SEED = 0x2000;
const BG_INODE_UNINIT = 0x1;
const BG_BLOCK_UNINIT = 0x2;

/** CRC-16/ARC (reflected 0x8005), as ext4's uninit_bg descriptor checksum uses it. */
function crc16(crc: number, data: Uint8Array): number {
  let c = crc & 0xffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  }
  return c;
}

function featureNames(bits: number, names: Record<number, string>): string[] {
  const out: string[] = [];
  for (let bit = 1; bit !== 0 && bit <= bits; bit = (bit << 1) >>> 0) if (bits & bit) out.push(names[bit] ?? `0x${bit.toString(16)}`);
  return out;
}

export interface Group {
  readonly index: number;
  readonly blockBitmap: number;
  readonly inodeBitmap: number;
  readonly inodeTable: number;
  freeBlocks: number;
  freeInodes: number;
  flags: number;
  itableUnused: number;
}

export class Ext4Volume {
  readonly blockSize: number;
  readonly blocksCount: number;
  readonly firstDataBlock: number;
  readonly blocksPerGroup: number;
  readonly inodesPerGroup: number;
  readonly inodeSize: number;
  readonly firstIno: number;
  readonly descSize: number;
  readonly groups: Group[] = [];
  readonly csumSeed: number;
  readonly metadataCsum: boolean;
  readonly gdtCsum: boolean;
  readonly hasFiletype: boolean;
  private readonly sb: Uint8Array;
  private readonly gdt: Uint8Array;
  private readonly blockBitmaps = new Map<number, { bits: Uint8Array; original: Uint8Array }>();
  private readonly inodeBitmaps = new Map<number, { bits: Uint8Array; original: Uint8Array }>();
  /** Blocks to write whole (inode-table blocks, directory blocks), by block number. */
  private readonly blocks = new Map<number, Uint8Array>();

  private constructor(
    private readonly read: ReadAt,
    readonly offset: number,
    sb: Uint8Array,
    gdt: Uint8Array,
  ) {
    this.sb = sb;
    this.gdt = gdt;
    const v = new DataView(sb.buffer, sb.byteOffset, 1024);
    this.blockSize = 1024 << v.getUint32(0x18, true);
    const incompat = v.getUint32(0x60, true);
    const is64 = (incompat & INCOMPAT_64BIT) !== 0;
    this.blocksCount = v.getUint32(0x4, true) + (is64 ? v.getUint32(0x150, true) * 2 ** 32 : 0);
    this.firstDataBlock = v.getUint32(0x14, true);
    this.blocksPerGroup = v.getUint32(0x20, true);
    this.inodesPerGroup = v.getUint32(0x28, true);
    const rev = v.getUint32(0x4c, true);
    this.inodeSize = rev === 0 ? 128 : v.getUint16(0x58, true);
    this.firstIno = rev === 0 ? 11 : v.getUint32(0x54, true);
    this.descSize = is64 ? v.getUint16(0xfe, true) : 32;
    const roCompat = v.getUint32(0x64, true);
    this.metadataCsum = (roCompat & RO_METADATA_CSUM) !== 0;
    this.gdtCsum = !this.metadataCsum && (roCompat & RO_GDT_CSUM) !== 0;
    this.hasFiletype = (incompat & 0x2) !== 0;
    this.csumSeed = incompat & INCOMPAT_CSUM_SEED ? v.getUint32(0x270, true) : crc32c(0xffffffff, sb.subarray(0x68, 0x78));
    const count = Math.ceil((this.blocksCount - this.firstDataBlock) / this.blocksPerGroup);
    const g = new DataView(gdt.buffer, gdt.byteOffset, gdt.byteLength);
    for (let i = 0; i < count; i++) {
      const at = i * this.descSize;
      const wide = (lo: number, hi: number, bytes: 2 | 4): number => {
        const low = bytes === 4 ? g.getUint32(at + lo, true) : g.getUint16(at + lo, true);
        if (this.descSize < 64) return low;
        return bytes === 4 ? low + g.getUint32(at + hi, true) * 2 ** 32 : low + g.getUint16(at + hi, true) * 0x10000;
      };
      this.groups.push({
        index: i,
        blockBitmap: wide(0x0, 0x20, 4),
        inodeBitmap: wide(0x4, 0x24, 4),
        inodeTable: wide(0x8, 0x28, 4),
        freeBlocks: wide(0xc, 0x2c, 2),
        freeInodes: wide(0xe, 0x2e, 2),
        flags: g.getUint16(at + 0x12, true),
        itableUnused: wide(0x1c, 0x32, 2),
      });
    }
  }

  /** Opens the filesystem at byte `offset`, refusing what this editor cannot keep consistent. */
  static async open(read: ReadAt, offset: number): Promise<Ext4Volume> {
    const sb = Uint8Array.from(await read(offset + 1024, 1024));
    const v = new DataView(sb.buffer);
    if (sb.length < 1024 || v.getUint16(0x38, true) !== 0xef53) {
      throw CardsmithError.keyed('bad-input', 'ext4.noSuperblock', { offset: offset + 1024 }, { offset });
    }
    const incompat = v.getUint32(0x60, true);
    const roCompat = v.getUint32(0x64, true);
    const bad = [...featureNames(incompat & ~INCOMPAT_OK, INCOMPAT_NAMES), ...featureNames(roCompat & ~RO_COMPAT_OK, RO_COMPAT_NAMES)];
    if (bad.length > 0) {
      throw CardsmithError.keyed('bad-input', 'ext4.features', { offset, features: bad.join(', ') }, { offset, features: bad });
    }
    if ((incompat & 0x40) === 0) throw CardsmithError.keyed('bad-input', 'ext4.noExtents', { offset }, { offset });
    if ((v.getUint16(0x3a, true) & 0x3) !== 0x1) {
      throw CardsmithError.keyed('bad-input', 'ext4.unclean', { offset }, { offset });
    }
    if ((roCompat & RO_METADATA_CSUM) !== 0 && crc32c(0xffffffff, sb.subarray(0, 0x3fc)) !== v.getUint32(0x3fc, true)) {
      throw CardsmithError.keyed('bad-input', 'ext4.superblockChecksum', { offset: offset + 1024 }, { offset: offset + 1024 });
    }
    const blockSize = 1024 << v.getUint32(0x18, true);
    const is64 = (incompat & INCOMPAT_64BIT) !== 0;
    const blocks = v.getUint32(0x4, true) + (is64 ? v.getUint32(0x150, true) * 2 ** 32 : 0);
    const groups = Math.ceil((blocks - v.getUint32(0x14, true)) / v.getUint32(0x20, true));
    const descSize = is64 ? v.getUint16(0xfe, true) : 32;
    if (blockSize > 65536 || descSize < 32 || groups <= 0 || v.getUint32(0x20, true) > blockSize * 8 || v.getUint32(0x28, true) > blockSize * 8) {
      throw CardsmithError.keyed('bad-input', 'ext4.geometry', { offset: offset + 1024 }, { offset: offset + 1024 });
    }
    const gdtBytes = Math.ceil((groups * descSize) / blockSize) * blockSize;
    const gdt = Uint8Array.from(await read(offset + (v.getUint32(0x14, true) + 1) * blockSize, gdtBytes));
    return new Ext4Volume(read, offset, sb, gdt);
  }

  byteOf(block: number): number {
    return this.offset + block * this.blockSize;
  }

  /** A block as it will be after the edit (earlier changes included). */
  async block(block: number): Promise<Uint8Array> {
    const known = this.blocks.get(block);
    if (known) return known;
    if (block < this.firstDataBlock || block >= this.blocksCount) {
      throw CardsmithError.keyed('bad-input', 'ext4.outside', { offset: this.offset, block, blocks: this.blocksCount }, { offset: this.byteOf(block) });
    }
    const bytes = Uint8Array.from(await this.read(this.byteOf(block), this.blockSize));
    this.blocks.set(block, bytes);
    return bytes;
  }

  /** Replaces a whole block's content (file data, a new directory block). */
  setBlock(block: number, bytes: Uint8Array): void {
    const whole = new Uint8Array(this.blockSize);
    whole.set(bytes.subarray(0, this.blockSize));
    this.blocks.set(block, whole);
  }

  groupOfInode(ino: number): number {
    return Math.floor((ino - 1) / this.inodesPerGroup);
  }

  private inodeWhere(ino: number): { block: number; at: number } {
    const group = this.groups[this.groupOfInode(ino)];
    if (ino < 1 || !group) throw CardsmithError.keyed('bad-input', 'ext4.inodeOutside', { ino, offset: this.offset }, { offset: this.offset, ino });
    const byte = ((ino - 1) % this.inodesPerGroup) * this.inodeSize;
    return { block: group.inodeTable + Math.floor(byte / this.blockSize), at: byte % this.blockSize };
  }

  /** A copy of inode `ino`'s bytes. */
  async inode(ino: number): Promise<Uint8Array> {
    const { block, at } = this.inodeWhere(ino);
    return Uint8Array.from((await this.block(block)).subarray(at, at + this.inodeSize));
  }

  /** The checksum seed of inode `ino` (directory tails are summed with it too). */
  inodeCsumSeed(ino: number, inode: Uint8Array): number {
    return inodeSeed(this.csumSeed, ino, new DataView(inode.buffer, inode.byteOffset).getUint32(0x64, true));
  }

  /** Stores inode `ino`, checksummed when the filesystem sums inodes. */
  async putInode(ino: number, inode: Uint8Array): Promise<void> {
    const bytes = Uint8Array.from(inode);
    if (this.metadataCsum) {
      const v = new DataView(bytes.buffer);
      const extra = this.inodeSize > 128 ? v.getUint16(0x80, true) : 0;
      const hasHigh = extra >= 4;
      v.setUint16(0x7c, 0, true);
      if (hasHigh) v.setUint16(0x82, 0, true);
      const sum = crc32c(this.inodeCsumSeed(ino, bytes), bytes);
      v.setUint16(0x7c, sum & 0xffff, true);
      if (hasHigh) v.setUint16(0x82, sum >>> 16, true);
    }
    const { block, at } = this.inodeWhere(ino);
    (await this.block(block)).set(bytes, at);
  }

  /** Group `g`'s block bitmap as it will be, loaded on first use. */
  async blockBitmap(g: number): Promise<Uint8Array> {
    return this.bitmap(this.blockBitmaps, this.groups[g]!.blockBitmap);
  }

  async inodeBitmap(g: number): Promise<Uint8Array> {
    return this.bitmap(this.inodeBitmaps, this.groups[g]!.inodeBitmap);
  }

  private async bitmap(cache: Map<number, { bits: Uint8Array; original: Uint8Array }>, block: number): Promise<Uint8Array> {
    const known = cache.get(block);
    if (known) return known.bits;
    const original = Uint8Array.from(await this.read(this.byteOf(block), this.blockSize));
    cache.set(block, { bits: Uint8Array.from(original), original });
    return cache.get(block)!.bits;
  }

  /** True when group `g`'s block bitmap was written and may be allocated from. */
  blocksUsable(g: number): boolean {
    return (this.groups[g]!.flags & BG_BLOCK_UNINIT) === 0 || !(this.metadataCsum || this.gdtCsum);
  }

  inodesUsable(g: number): boolean {
    return (this.groups[g]!.flags & BG_INODE_UNINIT) === 0 || !(this.metadataCsum || this.gdtCsum);
  }

  freeBlocksTotal(): number {
    const v = new DataView(this.sb.buffer);
    return v.getUint32(0xc, true) + (this.descSize >= 64 ? v.getUint32(0x158, true) * 2 ** 32 : 0);
  }

  private setFreeBlocksTotal(value: number): void {
    const v = new DataView(this.sb.buffer);
    v.setUint32(0xc, value >>> 0, true);
    if (this.descSize >= 64) v.setUint32(0x158, Math.floor(value / 2 ** 32), true);
  }

  /** Records `count` blocks of group `g` taken (positive) or given back (negative). */
  countBlocks(g: number, count: number): void {
    this.groups[g]!.freeBlocks -= count;
    this.setFreeBlocksTotal(this.freeBlocksTotal() - count);
  }

  countInode(g: number, index: number): void {
    const group = this.groups[g]!;
    group.freeInodes -= 1;
    // Inodes past (per group − itable_unused) are never read by e2fsck or the kernel.
    group.itableUnused = Math.min(group.itableUnused, this.inodesPerGroup - (index + 1));
    const v = new DataView(this.sb.buffer);
    v.setUint32(0x10, v.getUint32(0x10, true) - 1, true);
  }

  private encodeDescriptor(group: Group, bitmapSums: { block?: number; inode?: number }): void {
    const at = group.index * this.descSize;
    const d = this.gdt.subarray(at, at + this.descSize);
    const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const split16 = (lo: number, hi: number, value: number): void => {
      v.setUint16(lo, value & 0xffff, true);
      if (this.descSize >= 64) v.setUint16(hi, value >>> 16, true);
    };
    split16(0xc, 0x2c, group.freeBlocks);
    split16(0xe, 0x2e, group.freeInodes);
    split16(0x1c, 0x32, group.itableUnused);
    v.setUint16(0x12, group.flags, true);
    if (bitmapSums.block !== undefined) split16(0x18, 0x38, bitmapSums.block);
    if (bitmapSums.inode !== undefined) split16(0x1a, 0x3a, bitmapSums.inode);
    v.setUint16(0x1e, 0, true);
    if (this.metadataCsum) {
      const sum = crc32c(crc32cU32(this.csumSeed, group.index), d);
      v.setUint16(0x1e, sum & 0xffff, true);
    } else if (this.gdtCsum) {
      let sum = crc16(crc16(0xffff, this.sb.subarray(0x68, 0x78)), Uint8Array.of(group.index & 0xff, (group.index >>> 8) & 0xff, (group.index >>> 16) & 0xff, group.index >>> 24));
      sum = crc16(sum, d.subarray(0, 0x1e));
      if (this.descSize > 0x20) sum = crc16(sum, d.subarray(0x20));
      v.setUint16(0x1e, sum, true);
    }
  }

  private bitmapPatches(cache: Map<number, { bits: Uint8Array; original: Uint8Array }>, out: Patch[]): Map<number, number> {
    const sums = new Map<number, number>();
    for (const [block, { bits, original }] of cache) {
      if (bits.every((b, i) => b === original[i])) continue;
      const isInode = cache === this.inodeBitmaps;
      const bytes = (isInode ? this.inodesPerGroup : this.blocksPerGroup) / 8;
      sums.set(block, crc32c(this.csumSeed, bits.subarray(0, bytes)));
      out.push({ offset: this.byteOf(block), bytes: bits });
    }
    return sums;
  }

  /** Every changed block, descriptor-table block and the superblock, as whole-block patches. */
  patches(changedGroups: ReadonlySet<number>): Patch[] {
    const out: Patch[] = [];
    for (const [block, bytes] of this.blocks) out.push({ offset: this.byteOf(block), bytes });
    const blockSums = this.bitmapPatches(this.blockBitmaps, out);
    const inodeSums = this.bitmapPatches(this.inodeBitmaps, out);
    const gdtBlocks = new Set<number>();
    for (const g of changedGroups) {
      const group = this.groups[g]!;
      const sums = this.metadataCsum ? { block: blockSums.get(group.blockBitmap), inode: inodeSums.get(group.inodeBitmap) } : {};
      this.encodeDescriptor(group, sums);
      gdtBlocks.add(Math.floor((g * this.descSize) / this.blockSize));
    }
    const gdtStart = this.firstDataBlock + 1;
    for (const b of gdtBlocks) out.push({ offset: this.byteOf(gdtStart + b), bytes: this.gdt.slice(b * this.blockSize, (b + 1) * this.blockSize) });
    if (this.metadataCsum) new DataView(this.sb.buffer).setUint32(0x3fc, crc32c(0xffffffff, this.sb.subarray(0, 0x3fc)), true);
    out.push({ offset: this.offset + 1024, bytes: this.sb });
    return out.sort((a, b) => a.offset - b.offset);
  }
}
