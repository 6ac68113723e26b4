/**
 * ext4 geometry: how a filesystem of N blocks is cut into block groups, where each group's
 * superblock backup, descriptor-table copy, bitmaps and inode table live, and a block allocator
 * over the whole filesystem.
 *
 * Fixed choices (see ext4.ts for the feature set): 4 KiB blocks, 32768 blocks per group (one
 * bitmap block covers a group), 256-byte inodes, 64-byte group descriptors (64bit), no reserved
 * GDT blocks (no resize_inode; online growth would use meta_bg), sparse_super backups in groups
 * 0, 1 and powers of 3, 5 and 7, and flex_bg groups of 16 whose bitmaps and inode tables are
 * packed at the start of the flex group's first group.
 */
export const BLOCK_SIZE = 4096;
export const BLOCKS_PER_GROUP = 32768;
export const INODE_SIZE = 256;
export const DESC_SIZE = 64;
export const FLEX_GROUPS = 16;
export const INODES_PER_BLOCK = BLOCK_SIZE / INODE_SIZE;
export const MAX_INODES_PER_GROUP = BLOCKS_PER_GROUP;
/** Largest jbd2 journal Cardsmith creates: plenty for a card's commit rate, and cheap to zero. */
export const MAX_JOURNAL_BLOCKS = 16384;

export interface GroupMeta {
  readonly blockBitmap: number;
  readonly inodeBitmap: number;
  readonly inodeTable: number;
}

export interface Geometry {
  readonly blocksCount: number;
  readonly groups: number;
  readonly inodesPerGroup: number;
  readonly gdtBlocks: number;
  readonly journalBlocks: number;
}

/** jbd2's smallest journal, and mke2fs's choice for filesystems under 128 MiB (4 MiB). */
export const MIN_JOURNAL_BLOCKS = 1024;

/** e2fsprogs' default journal size for a filesystem of `blocks`, capped at MAX_JOURNAL_BLOCKS. */
export function journalBlocksFor(blocks: number): number {
  if (blocks < 32768) return MIN_JOURNAL_BLOCKS;
  if (blocks < 256 * 1024) return 4096;
  if (blocks < 512 * 1024) return 8192;
  return MAX_JOURNAL_BLOCKS;
}

function isPowerOf(n: number, base: number): boolean {
  let x = base;
  while (x < n) x *= base;
  return x === n;
}

/** sparse_super: backups only in groups 0, 1 and powers of 3, 5, 7. */
export function hasSuperBackup(group: number): boolean {
  return group <= 1 || isPowerOf(group, 3) || isPowerOf(group, 5) || isPowerOf(group, 7);
}

export function groupStart(group: number): number {
  return group * BLOCKS_PER_GROUP;
}

export function groupBlocks(geometry: Geometry, group: number): number {
  return Math.min(BLOCKS_PER_GROUP, geometry.blocksCount - groupStart(group));
}

/** `journalBlocks` overrides the mke2fs default for the size (like `mke2fs -J size=`). */
export function makeGeometry(blocksCount: number, inodesWanted: number, journalBlocks?: number): Geometry {
  const groups = Math.ceil(blocksCount / BLOCKS_PER_GROUP);
  const perGroup = Math.ceil(inodesWanted / groups / INODES_PER_BLOCK) * INODES_PER_BLOCK;
  return {
    blocksCount,
    groups,
    inodesPerGroup: Math.min(MAX_INODES_PER_GROUP, Math.max(INODES_PER_BLOCK, perGroup)),
    gdtBlocks: Math.ceil((groups * DESC_SIZE) / BLOCK_SIZE),
    journalBlocks: journalBlocks ?? journalBlocksFor(blocksCount),
  };
}

/** A contiguous run of physical blocks. */
export interface Run {
  readonly start: number;
  readonly length: number;
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, n) => {
  let bits = 0;
  for (let x = n; x > 0; x >>= 1) bits += x & 1;
  return bits;
});

/** One bit per block; set = in use. Allocation is first-fit from a moving cursor. */
export class BlockAllocator {
  readonly bits: Uint8Array;
  private cursor = 0;
  /** The last claim's runs: start, length, start, length, … */
  private readonly scratch: number[] = [];

  constructor(readonly blocksCount: number) {
    this.bits = new Uint8Array(Math.ceil(blocksCount / 8));
  }

  isUsed(block: number): boolean {
    return (this.bits[block >>> 3]! & (1 << (block & 7))) !== 0;
  }

  mark(start: number, length: number): void {
    const end = start + length;
    let b = start;
    for (; b < end && (b & 7) !== 0; b++) this.bits[b >>> 3]! |= 1 << (b & 7);
    if (b + 8 <= end) {
      this.bits.fill(0xff, b >>> 3, (end >>> 3));
      b = end - (end & 7);
    }
    for (; b < end; b++) this.bits[b >>> 3]! |= 1 << (b & 7);
  }

  /** `count` blocks as runs, first fit from `from` (default: the cursor); null when full. */
  allocate(count: number, from?: number): Run[] | null {
    if (!this.claim(count, from)) return null;
    const runs: Run[] = [];
    for (let i = 0; i < this.scratch.length; i += 2) runs.push({ start: this.scratch[i]!, length: this.scratch[i + 1]! });
    return runs;
  }

  /**
   * Allocates like `allocate(count)` but only counts: the number of extents the blocks make as
   * one logical run (each physical run split at `maxExtent`), or null when full. A size search
   * needs no more than this, and makes no objects per file.
   */
  allocateCount(count: number, maxExtent: number): number | null {
    if (!this.claim(count)) return null;
    let extents = 0;
    for (let i = 1; i < this.scratch.length; i += 2) extents += Math.ceil(this.scratch[i]! / maxExtent);
    return extents;
  }

  /**
   * First fit of `count` blocks from `from` (default: the cursor, which then moves past them):
   * their runs go to `scratch` as start, length pairs and are marked; nothing is marked when
   * they do not fit.
   */
  private claim(count: number, from?: number): boolean {
    const runs = this.scratch;
    runs.length = 0;
    let left = count;
    let b = from ?? this.cursor;
    while (left > 0) {
      while (b < this.blocksCount && this.isUsed(b)) {
        if ((b & 7) === 0 && this.bits[b >>> 3] === 0xff) b += 8;
        else b++;
      }
      if (b >= this.blocksCount) return false;
      const start = b;
      while (b < this.blocksCount && left > 0 && !this.isUsed(b)) {
        b++;
        left--;
      }
      runs.push(start, b - start);
    }
    for (let i = 0; i < runs.length; i += 2) this.mark(runs[i]!, runs[i + 1]!);
    if (from === undefined) this.cursor = b;
    return true;
  }

  setCursor(block: number): void {
    this.cursor = block;
  }

  usedIn(start: number, length: number): number {
    const end = start + length;
    let used = 0;
    let b = start;
    for (; b < end && (b & 7) !== 0; b++) if (this.isUsed(b)) used++;
    for (; b + 8 <= end; b += 8) used += POPCOUNT[this.bits[b >>> 3]!]!;
    for (; b < end; b++) if (this.isUsed(b)) used++;
    return used;
  }
}

/** Marks superblocks and descriptor copies, then places every group's bitmaps and inode table. */
export function placeGroupMetadata(geometry: Geometry, alloc: BlockAllocator): GroupMeta[] | null {
  for (let g = 0; g < geometry.groups; g++) {
    if (hasSuperBackup(g)) alloc.mark(groupStart(g), 1 + geometry.gdtBlocks);
  }
  const tableBlocks = geometry.inodesPerGroup / INODES_PER_BLOCK;
  const metas: GroupMeta[] = [];
  for (let leader = 0; leader < geometry.groups; leader += FLEX_GROUPS) {
    const members = Math.min(FLEX_GROUPS, geometry.groups - leader);
    const from = groupStart(leader);
    const blockBitmaps = contiguous(alloc, members, from);
    const inodeBitmaps = contiguous(alloc, members, from);
    const tables: number[] = [];
    for (let i = 0; i < members; i++) {
      const table = contiguous(alloc, tableBlocks, from);
      if (table === null) return null;
      tables.push(table);
    }
    if (blockBitmaps === null || inodeBitmaps === null) return null;
    for (let i = 0; i < members; i++) {
      metas.push({ blockBitmap: blockBitmaps + i, inodeBitmap: inodeBitmaps + i, inodeTable: tables[i]! });
    }
  }
  return metas;
}

/** First fit of `count` contiguous free blocks at or after `from`. */
function contiguous(alloc: BlockAllocator, count: number, from: number): number | null {
  let start = from;
  for (;;) {
    while (start < alloc.blocksCount && alloc.isUsed(start)) start++;
    if (start + count > alloc.blocksCount) return null;
    let end = start;
    while (end < start + count && !alloc.isUsed(end)) end++;
    if (end === start + count) {
      alloc.mark(start, count);
      return start;
    }
    start = end;
  }
}
