/**
 * ext4 inodes (256 bytes) and extent trees.
 *
 * An extent maps a run of logical file blocks to physical blocks (at most 32768 per extent). The
 * inode's 60-byte i_block holds the tree root: a 12-byte header and up to 4 entries. With more
 * extents the root holds index entries pointing to blocks of 340 entries each (12-byte header,
 * entries, 4-byte CRC32C tail), as many levels as needed. Logical ranges never covered are holes.
 *
 * Fast symlinks (< 60 bytes) keep the target in i_block; device numbers live in i_block too.
 * Timestamps carry nanoseconds and two epoch bits in the *_extra fields. Every inode is
 * checksummed (crc32c of fs seed, inode number, generation, and the inode with its checksum
 * fields zeroed).
 */
import { crc32c, crc32cU32 } from './crc32c';
import { BLOCK_SIZE, INODE_SIZE } from './geometry';
import { EXTRA_ISIZE } from './xattr';

export const MAX_EXTENT_LENGTH = 32768;
const EXTENT_MAGIC = 0xf30a;
const PER_BLOCK = Math.floor((BLOCK_SIZE - 12 - 4) / 12);
export const EXTENTS_FL = 0x80000;
const HUGE_FILE_FL = 0x40000;

export interface Extent {
  readonly logical: number;
  readonly physical: number;
  readonly length: number;
}

/** Index blocks (all levels below the root) that `count` extents need. */
export function extentTreeBlocks(count: number): number {
  let total = 0;
  let level = count;
  while (level > 4) {
    level = Math.ceil(level / PER_BLOCK);
    total += level;
  }
  return total;
}

export function inodeSeed(fsSeed: number, ino: number, generation = 0): number {
  return crc32cU32(crc32cU32(fsSeed, ino), generation);
}

function writeHeader(view: DataView, at: number, entries: number, max: number, depth: number): void {
  view.setUint16(at, EXTENT_MAGIC, true);
  view.setUint16(at + 2, entries, true);
  view.setUint16(at + 4, max, true);
  view.setUint16(at + 6, depth, true);
  view.setUint32(at + 8, 0, true);
}

interface TreeEntry {
  readonly logical: number;
  /** Physical block of the extent start, or of the child node for index entries. */
  readonly physical: number;
  readonly length: number;
}

function writeEntries(view: DataView, at: number, entries: readonly TreeEntry[], leaf: boolean): void {
  entries.forEach((entry, i) => {
    const p = at + 12 + i * 12;
    view.setUint32(p, entry.logical, true);
    if (leaf) {
      view.setUint16(p + 4, entry.length, true);
      view.setUint16(p + 6, Math.floor(entry.physical / 2 ** 32), true);
      view.setUint32(p + 8, entry.physical >>> 0, true);
    } else {
      view.setUint32(p + 4, entry.physical >>> 0, true);
      view.setUint16(p + 8, Math.floor(entry.physical / 2 ** 32), true);
    }
  });
}

/**
 * Builds the extent tree: fills `iblock` (60 bytes) and returns the index/leaf blocks to write,
 * placed at `treeBlocks` (as many as extentTreeBlocks(extents.length)).
 */
export function buildExtentTree(
  extents: readonly Extent[],
  treeBlocks: readonly number[],
  iblock: Uint8Array,
  seed: number,
): { readonly block: number; readonly data: Uint8Array }[] {
  const written: { block: number; data: Uint8Array }[] = [];
  let level: TreeEntry[] = extents.slice();
  let depth = 0;
  let next = 0;
  while (level.length > 4) {
    const parents: TreeEntry[] = [];
    for (let i = 0; i < level.length; i += PER_BLOCK) {
      const children = level.slice(i, i + PER_BLOCK);
      const block = treeBlocks[next++]!;
      const data = new Uint8Array(BLOCK_SIZE);
      const view = new DataView(data.buffer);
      writeHeader(view, 0, children.length, PER_BLOCK, depth);
      writeEntries(view, 0, children, depth === 0);
      const tail = 12 + PER_BLOCK * 12;
      view.setUint32(tail, crc32c(seed, data.subarray(0, tail)), true);
      written.push({ block, data });
      parents.push({ logical: children[0]!.logical, physical: block, length: 0 });
    }
    level = parents;
    depth++;
  }
  const view = new DataView(iblock.buffer, iblock.byteOffset, 60);
  writeHeader(view, 0, level.length, 4, depth);
  writeEntries(view, 0, level, depth === 0);
  return written;
}

export interface InodeFields {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly links: number;
  /** Seconds since the epoch, fractional allowed. */
  readonly mtime: number;
  /** 512-byte sectors allocated (data + tree + xattr block). */
  readonly sectors: number;
  readonly flags: number;
  readonly xattrBlock: number;
}

function setTime(view: DataView, lowAt: number, extraAt: number, time: number): void {
  const seconds = Math.floor(time);
  const nanos = Math.min(999_999_999, Math.round((time - seconds) * 1e9));
  const low = seconds | 0;
  const epoch = Math.floor((seconds - low) / 2 ** 32) & 3;
  view.setInt32(lowAt, low, true);
  view.setUint32(extraAt, ((nanos << 2) | epoch) >>> 0, true);
}

/** A 256-byte inode; `iblock` (60 bytes) is copied into i_block. Checksum added by `sealInode`. */
export function encodeInode(fields: InodeFields, iblock: Uint8Array): Uint8Array {
  const inode = new Uint8Array(INODE_SIZE);
  const view = new DataView(inode.buffer);
  view.setUint16(0x00, fields.mode, true);
  view.setUint16(0x02, fields.uid & 0xffff, true);
  view.setUint32(0x04, fields.size >>> 0, true);
  view.setUint32(0x6c, Math.floor(fields.size / 2 ** 32), true);
  for (const [low, extra] of [
    [0x08, 0x8c],
    [0x0c, 0x84],
    [0x10, 0x88],
    [0x90, 0x94],
  ] as const) {
    setTime(view, low, extra, fields.mtime);
  }
  view.setUint16(0x18, fields.gid & 0xffff, true);
  view.setUint16(0x1a, fields.links, true);
  let sectors = fields.sectors;
  let flags = fields.flags;
  if (sectors >= 2 ** 48) {
    sectors = Math.ceil(sectors / (BLOCK_SIZE / 512));
    flags |= HUGE_FILE_FL;
  }
  view.setUint32(0x1c, sectors >>> 0, true);
  view.setUint16(0x74, Math.floor(sectors / 2 ** 32), true);
  view.setUint32(0x20, flags, true);
  inode.set(iblock.subarray(0, 60), 0x28);
  view.setUint32(0x68, fields.xattrBlock >>> 0, true);
  view.setUint16(0x76, Math.floor(fields.xattrBlock / 2 ** 32), true);
  view.setUint16(0x78, fields.uid >>> 16, true);
  view.setUint16(0x7a, fields.gid >>> 16, true);
  view.setUint16(0x80, EXTRA_ISIZE, true);
  return inode;
}

/** Stores the inode checksum (low half at 0x7C, high half at 0x82). */
export function sealInode(inode: Uint8Array, fsSeed: number, ino: number): void {
  const view = new DataView(inode.buffer, inode.byteOffset, INODE_SIZE);
  view.setUint16(0x7c, 0, true);
  view.setUint16(0x82, 0, true);
  const sum = crc32c(inodeSeed(fsSeed, ino), inode.subarray(0, INODE_SIZE));
  view.setUint16(0x7c, sum & 0xffff, true);
  view.setUint16(0x82, sum >>> 16, true);
}

/** i_block for a device node: old 16-bit encoding when it fits, else the new 32-bit one. */
export function deviceIblock(major: number, minor: number): Uint8Array {
  const iblock = new Uint8Array(60);
  const view = new DataView(iblock.buffer);
  if (major < 256 && minor < 256) view.setUint32(0, (major << 8) | minor, true);
  else view.setUint32(4, ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0, true);
  return iblock;
}
