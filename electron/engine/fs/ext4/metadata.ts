/**
 * Whole-filesystem ext4 structures: the superblock (and its sparse_super backups), the group
 * descriptor table, per-group block and inode bitmaps, and the jbd2 journal superblock.
 *
 * Group flags: INODE_UNINIT on groups without used inodes and BLOCK_UNINIT on groups (other than
 * the last) holding nothing but a superblock backup — exactly what the kernel and e2fsck would
 * recompute for such a group. ITABLE_ZEROED is never set: inode-table blocks past each group's
 * used inodes (bg_itable_unused) are not written, the kernel zeroes them lazily after mounting.
 * Every bitmap is still written with its CRC32C so a card's stale bytes never matter.
 */
import { createHash } from 'node:crypto';
import { crc32c, crc32cU32 } from './crc32c';
import { BLOCK_SIZE, BLOCKS_PER_GROUP, DESC_SIZE, FLEX_GROUPS, groupBlocks, groupStart, hasSuperBackup, INODE_SIZE, type Geometry } from './geometry';
import { EXTRA_ISIZE } from './xattr';

const FEATURE_COMPAT = 0x4 /* has_journal */ | 0x8 /* ext_attr */ | 0x20; /* dir_index */
const FEATURE_INCOMPAT = 0x2 /* filetype */ | 0x40 /* extent */ | 0x80 /* 64bit */ | 0x200; /* flex_bg */
const FEATURE_RO_COMPAT =
  0x1 /* sparse_super */ | 0x2 /* large_file */ | 0x8 /* huge_file */ | 0x20 /* dir_nlink */ | 0x40 /* extra_isize */ | 0x400; /* metadata_csum */

const BG_INODE_UNINIT = 0x1;
const BG_BLOCK_UNINIT = 0x2;

export interface Identity {
  readonly uuid: Uint8Array;
  readonly hashSeed: Uint8Array;
  /** crc32c(~0, uuid): the seed of every metadata checksum. */
  readonly csumSeed: number;
}

export function identityFromSeed(seed: string): Identity {
  const digest = (what: string): Uint8Array => createHash('sha256').update(`cardsmith-ext4-${what}:${seed}`).digest().subarray(0, 16);
  const uuid = Uint8Array.from(digest('uuid'));
  uuid[6] = (uuid[6]! & 0x0f) | 0x40;
  uuid[8] = (uuid[8]! & 0x3f) | 0x80;
  return { uuid, hashSeed: digest('hash-seed'), csumSeed: crc32c(0xffffffff, uuid) };
}

export interface GroupState {
  readonly blockBitmap: number;
  readonly inodeBitmap: number;
  readonly inodeTable: number;
  readonly freeBlocks: number;
  readonly freeInodes: number;
  readonly usedDirs: number;
  /** Inodes from the table's start that are (or may be) in use; the rest are never read. */
  readonly usedInodes: number;
  readonly blockUninit: boolean;
  readonly blockBitmapCsum: number;
  readonly inodeBitmapCsum: number;
}

/** A group's block bitmap from the filesystem-wide allocation bits; past-the-end bits set. */
export function blockBitmap(geometry: Geometry, bits: Uint8Array, group: number): Uint8Array {
  const out = new Uint8Array(BLOCK_SIZE);
  const start = groupStart(group);
  const count = groupBlocks(geometry, group);
  out.set(bits.subarray(start / 8, Math.ceil((start + count) / 8)));
  for (let b = count; b < BLOCKS_PER_GROUP; b++) out[b >>> 3]! |= 1 << (b & 7);
  return out;
}

/** A group's inode bitmap: the first `used` inodes in use, bits past inodes_per_group set. */
export function inodeBitmap(geometry: Geometry, used: number): Uint8Array {
  const out = new Uint8Array(BLOCK_SIZE);
  for (let i = 0; i < used; i++) out[i >>> 3]! |= 1 << (i & 7);
  for (let i = geometry.inodesPerGroup; i < BLOCK_SIZE * 8; i++) out[i >>> 3]! |= 1 << (i & 7);
  return out;
}

export function bitmapCsum(csumSeed: number, bitmap: Uint8Array, bytes: number): number {
  return crc32c(csumSeed, bitmap.subarray(0, bytes));
}

export function encodeGroupDescriptors(geometry: Geometry, groups: readonly GroupState[], csumSeed: number): Uint8Array {
  const table = new Uint8Array(geometry.gdtBlocks * BLOCK_SIZE);
  const view = new DataView(table.buffer);
  const split = (at: number, hiAt: number, value: number, hiBytes: 2 | 4): void => {
    view.setUint32(at, value >>> 0, true);
    if (hiBytes === 4) view.setUint32(hiAt, Math.floor(value / 2 ** 32), true);
  };
  const split16 = (at: number, hiAt: number, value: number): void => {
    view.setUint16(at, value & 0xffff, true);
    view.setUint16(hiAt, value >>> 16, true);
  };
  groups.forEach((g, i) => {
    const at = i * DESC_SIZE;
    split(at, at + 0x20, g.blockBitmap, 4);
    split(at + 0x4, at + 0x24, g.inodeBitmap, 4);
    split(at + 0x8, at + 0x28, g.inodeTable, 4);
    split16(at + 0xc, at + 0x2c, g.freeBlocks);
    split16(at + 0xe, at + 0x2e, g.freeInodes);
    split16(at + 0x10, at + 0x30, g.usedDirs);
    view.setUint16(at + 0x12, (g.usedInodes === 0 ? BG_INODE_UNINIT : 0) | (g.blockUninit ? BG_BLOCK_UNINIT : 0), true);
    split16(at + 0x18, at + 0x38, g.blockBitmapCsum);
    split16(at + 0x1a, at + 0x3a, g.inodeBitmapCsum);
    split16(at + 0x1c, at + 0x32, geometry.inodesPerGroup - g.usedInodes);
    let sum = crc32cU32(csumSeed, i);
    sum = crc32c(sum, table.subarray(at, at + 0x1e));
    sum = crc32c(sum, new Uint8Array(2));
    sum = crc32c(sum, table.subarray(at + 0x20, at + DESC_SIZE));
    view.setUint16(at + 0x1e, sum & 0xffff, true);
  });
  return table;
}

export interface SuperblockFields {
  readonly geometry: Geometry;
  readonly identity: Identity;
  readonly freeBlocks: number;
  readonly freeInodes: number;
  readonly reservedBlocks: number;
  readonly timestamp: number;
  readonly label: string;
  /** The journal inode's i_block and size, backed up in the superblock. */
  readonly journalIblock: Uint8Array;
  readonly journalBytes: number;
}

/** The 1024-byte superblock as stored in `group` (backups differ in s_block_group_nr). */
export function encodeSuperblock(f: SuperblockFields, group: number): Uint8Array {
  const sb = new Uint8Array(1024);
  const v = new DataView(sb.buffer);
  const u64 = (lo: number, hi: number, value: number): void => {
    v.setUint32(lo, value >>> 0, true);
    v.setUint32(hi, Math.floor(value / 2 ** 32), true);
  };
  const g = f.geometry;
  v.setUint32(0x0, g.inodesPerGroup * g.groups, true);
  u64(0x4, 0x150, g.blocksCount);
  u64(0x8, 0x154, f.reservedBlocks);
  u64(0xc, 0x158, f.freeBlocks);
  v.setUint32(0x10, f.freeInodes, true);
  v.setUint32(0x14, 0, true);
  v.setUint32(0x18, 2, true);
  v.setUint32(0x1c, 2, true);
  v.setUint32(0x20, BLOCKS_PER_GROUP, true);
  v.setUint32(0x24, BLOCKS_PER_GROUP, true);
  v.setUint32(0x28, g.inodesPerGroup, true);
  v.setUint32(0x30, f.timestamp >>> 0, true);
  v.setUint16(0x36, 0xffff, true);
  v.setUint16(0x38, 0xef53, true);
  v.setUint16(0x3a, 1, true);
  v.setUint16(0x3c, 1, true);
  v.setUint32(0x40, f.timestamp >>> 0, true);
  v.setUint32(0x4c, 1, true);
  v.setUint32(0x54, 11, true);
  v.setUint16(0x58, INODE_SIZE, true);
  v.setUint16(0x5a, group, true);
  v.setUint32(0x5c, FEATURE_COMPAT, true);
  v.setUint32(0x60, FEATURE_INCOMPAT, true);
  v.setUint32(0x64, FEATURE_RO_COMPAT, true);
  sb.set(f.identity.uuid, 0x68);
  sb.set(Buffer.from(f.label, 'utf8').subarray(0, 16), 0x78);
  v.setUint32(0xe0, 8, true);
  sb.set(f.identity.hashSeed, 0xec);
  sb[0xfc] = 1; // half_md4
  sb[0xfd] = 1; // s_jnl_blocks holds a copy of the journal inode's i_block
  v.setUint16(0xfe, DESC_SIZE, true);
  v.setUint32(0x100, 0x000c, true); // user_xattr, acl
  v.setUint32(0x108, f.timestamp >>> 0, true);
  sb.set(f.journalIblock.subarray(0, 60), 0x10c);
  v.setUint32(0x10c + 60, Math.floor(f.journalBytes / 2 ** 32), true);
  v.setUint32(0x10c + 64, f.journalBytes >>> 0, true);
  v.setUint16(0x15c, EXTRA_ISIZE, true);
  v.setUint16(0x15e, EXTRA_ISIZE, true);
  v.setUint32(0x160, 1, true); // signed directory hash
  sb[0x174] = Math.log2(FLEX_GROUPS);
  sb[0x175] = 1; // crc32c
  v.setUint32(0x3fc, crc32c(0xffffffff, sb.subarray(0, 0x3fc)), true);
  return sb;
}

/** Groups holding a superblock copy (group 0's sits at byte 1024 of block 0). */
export function superblockGroups(geometry: Geometry): number[] {
  return Array.from({ length: geometry.groups }, (_, g) => g).filter(hasSuperBackup);
}

/** jbd2 superblock (v2, big-endian) of an empty, clean internal journal. */
export function encodeJournalSuperblock(journalBlocks: number, identity: Identity): Uint8Array {
  const block = new Uint8Array(BLOCK_SIZE);
  const v = new DataView(block.buffer);
  v.setUint32(0x0, 0xc03b3998);
  v.setUint32(0x4, 4);
  v.setUint32(0xc, BLOCK_SIZE);
  v.setUint32(0x10, journalBlocks);
  v.setUint32(0x14, 1);
  v.setUint32(0x18, 1);
  block.set(identity.uuid, 0x30);
  v.setUint32(0x40, 1);
  return block;
}
