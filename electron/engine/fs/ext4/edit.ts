/**
 * Replaces or creates small regular files in an existing ext4 filesystem, in place, as byte
 * patches (whole filesystem blocks): nothing is written here. A replaced file keeps its inode
 * (mode, owner and xattrs unless new ones are given) and its old blocks are freed; a new file
 * takes a free inode from an initialised group and an entry in its (linear) directory, which
 * grows by a block when full. Data blocks come from the block bitmaps, one contiguous run when
 * there is one, at most four extents (the inode's own extent root, depth 0). Free counts in the
 * group descriptors and the superblock and every checksum the filesystem keeps are brought up to
 * date (edit-volume.ts). Whatever cannot be done is refused before any patch exists.
 */
import type { ReadAt } from '../../disk/read-layout';
import { CardsmithError } from '../../errors';
import type { MessageKey, ParamsOf } from '../../messages';
import type { Patch } from '../../flash/patch';
import { crc32c } from './crc32c';
import { entrySize } from './directory';
import { Ext4Volume } from './edit-volume';
import { buildExtentTree, encodeInode, EXTENTS_FL, MAX_EXTENT_LENGTH, type Extent } from './inode';

export interface Ext4File {
  /** Absolute path in the filesystem, e.g. "/root/.not_logged_in_yet". */
  readonly path: string;
  readonly bytes: Uint8Array;
  /** Permission bits; a new file defaults to 0644, a replaced one keeps its own. */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

/** Largest file this editor writes: first-boot files are a few KiB. */
export const MAX_EDIT_BYTES = 4 * 1024 * 1024;
const ROOT_INO = 2;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const INDEX_FL = 0x1000;
const INLINE_DATA_FL = 0x10000000;
const HUGE_FILE_FL = 0x40000;
const EXTENT_MAGIC = 0xf30a;
const DIR_TAIL = 12;

interface Lookup {
  readonly ino: number;
  readonly inode: Uint8Array;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** An extent as found on disk; unwritten (preallocated) blocks read as zeros. */
type FoundExtent = Extent & { readonly unwritten: boolean };

/** The extents of a leaf node (the inode's root or a tree block) holding `entries` of them. */
function parseLeaf(node: Uint8Array, entries: number): FoundExtent[] {
  const v = view(node);
  const out: FoundExtent[] = [];
  for (let i = 0; i < entries && 12 + i * 12 + 12 <= node.length; i++) {
    const at = 12 + i * 12;
    const raw = v.getUint16(at + 4, true);
    // A length above 32768 marks an unwritten extent of length − 32768.
    const unwritten = raw > MAX_EXTENT_LENGTH;
    out.push({ logical: v.getUint32(at, true), length: unwritten ? raw - MAX_EXTENT_LENGTH : raw, physical: v.getUint16(at + 6, true) * 2 ** 32 + v.getUint32(at + 8, true), unwritten });
  }
  return out;
}

class Editor {
  readonly changedGroups = new Set<number>();

  constructor(
    private readonly vol: Ext4Volume,
    private readonly mtime: number,
  ) {}

  /** Every `ext4edit.*` template ends in the filesystem's byte offset, which this adds. */
  private fail<K extends MessageKey>(key: K, params: Omit<ParamsOf<K>, 'offset'>, details: Record<string, unknown> = {}): never {
    throw CardsmithError.keyed('bad-input', key, { ...params, offset: this.vol.offset } as unknown as ParamsOf<K>, { offset: this.vol.offset, ...details });
  }

  /** The extents in an inode's depth-0 root; deeper trees and block maps are refused. */
  extentsOf(inode: Uint8Array, what: string): Extent[] {
    const v = view(inode);
    const flags = v.getUint32(0x20, true);
    if (flags & INLINE_DATA_FL) this.fail('ext4edit.inline', { path: what }, { path: what });
    if (!(flags & EXTENTS_FL)) this.fail('ext4edit.blockMaps', { path: what }, { path: what });
    if (v.getUint16(0x28, true) !== EXTENT_MAGIC) this.fail('ext4edit.extentHeader', { path: what }, { path: what });
    if (v.getUint16(0x28 + 6, true) !== 0) this.fail('ext4edit.deepTree', { path: what }, { path: what });
    return parseLeaf(inode.subarray(0x28, 0x28 + 60), Math.min(4, v.getUint16(0x28 + 2, true)));
  }

  /** Every extent of a directory, walking index blocks of a deeper tree (read only). */
  private async treeExtents(node: Uint8Array, path: string, level = 0): Promise<FoundExtent[]> {
    const v = view(node);
    if (v.getUint16(0, true) !== EXTENT_MAGIC || level > 5) this.fail('ext4edit.extentTree', { path }, { path });
    const entries = v.getUint16(2, true);
    const depth = v.getUint16(6, true);
    if (depth === 0) return parseLeaf(node, entries);
    const out: FoundExtent[] = [];
    for (let i = 0; i < entries; i++) {
      const at = 12 + i * 12;
      const child = v.getUint16(at + 8, true) * 2 ** 32 + v.getUint32(at + 4, true);
      out.push(...(await this.treeExtents(await this.vol.block(child), path, level + 1)));
    }
    return out;
  }

  /** The written blocks of a file or directory by logical number (holes and unwritten extents read as zeros). */
  private async dirBlocks(dir: Lookup, path: string): Promise<{ logical: number; block: number }[]> {
    const flags = view(dir.inode).getUint32(0x20, true);
    if (flags & INLINE_DATA_FL || !(flags & EXTENTS_FL)) this.extentsOf(dir.inode, path);
    const out: { logical: number; block: number }[] = [];
    for (const e of await this.treeExtents(dir.inode.subarray(0x28, 0x28 + 60), path)) {
      if (!e.unwritten) for (let i = 0; i < e.length; i++) out.push({ logical: e.logical + i, block: e.physical + i });
    }
    return out;
  }

  /** Entries of a directory block, skipping the checksum tail. */
  private *entries(block: Uint8Array): Generator<{ at: number; ino: number; recLen: number; name: Uint8Array }> {
    const v = view(block);
    for (let at = 0; at + 8 <= block.length; ) {
      const recLen = v.getUint16(at + 4, true);
      if (recLen < 8 || at + recLen > block.length) this.fail('ext4edit.entryLength', { at });
      const nameLen = block[at + 6]!;
      yield { at, ino: v.getUint32(at, true), recLen, name: block.subarray(at + 8, at + 8 + nameLen) };
      at += recLen;
    }
  }

  async lookup(path: string): Promise<{ parent: Lookup; parentPath: string; name: Uint8Array; found: Lookup | null }> {
    const parts = path.split('/').filter(Boolean);
    if (!path.startsWith('/') || parts.length === 0 || parts.some((p) => p === '.' || p === '..')) this.fail('ext4edit.notAbsolute', { path }, { path });
    let dir: Lookup = { ino: ROOT_INO, inode: await this.vol.inode(ROOT_INO) };
    let dirPath = '/';
    for (const [i, part] of parts.entries()) {
      const name = new TextEncoder().encode(part);
      if (name.length > 255) this.fail('ext4edit.longName', { name: part }, { path });
      if ((view(dir.inode).getUint16(0, true) & S_IFMT) !== S_IFDIR) this.fail('ext4edit.notDir', { path: dirPath }, { path: dirPath });
      const ino = await this.findIn(dir, dirPath, name);
      const last = i === parts.length - 1;
      if (last) return { parent: dir, parentPath: dirPath, name, found: ino === 0 ? null : { ino, inode: await this.vol.inode(ino) } };
      if (ino === 0) this.fail('ext4edit.noDir', { path, dir: `/${parts.slice(0, i + 1).join('/')}` }, { path });
      dir = { ino, inode: await this.vol.inode(ino) };
      dirPath = `/${parts.slice(0, i + 1).join('/')}`;
    }
    throw new Error('unreachable');
  }

  /** Linear scan; also right for an htree directory, whose index hides in entries the scan skips. */
  private async findIn(dir: Lookup, path: string, name: Uint8Array): Promise<number> {
    for (const { block } of await this.dirBlocks(dir, path)) {
      for (const e of this.entries(await this.vol.block(block))) {
        if (e.ino !== 0 && e.name.length === name.length && e.name.every((b, i) => b === name[i])) return e.ino;
      }
    }
    return 0;
  }

  /** A regular file's bytes (at most `limit`), or null when the path does not exist. */
  async readFile(path: string, limit: number): Promise<Uint8Array | null> {
    const { found } = await this.lookup(path);
    if (!found) return null;
    const v = view(found.inode);
    if ((v.getUint16(0, true) & S_IFMT) !== S_IFREG) this.fail('ext4edit.notFile', { path }, { path });
    const size = v.getUint32(0x4, true) + v.getUint32(0x6c, true) * 2 ** 32;
    if (size > limit) this.fail('ext4edit.tooLargeToRead', { path, size, limit }, { path });
    const out = new Uint8Array(size);
    const bs = this.vol.blockSize;
    for (const { logical, block } of await this.dirBlocks(found, path)) {
      if (logical * bs < size) out.set((await this.vol.block(block)).subarray(0, Math.min(bs, size - logical * bs)), logical * bs);
    }
    return out;
  }

  /** Takes `count` free blocks near `goal`: one contiguous run when there is one, else first fit. */
  async allocateBlocks(count: number, goalGroup: number, what: string): Promise<Extent[]> {
    if (count === 0) return [];
    const order = this.vol.groups.map((_, i) => (goalGroup + i) % this.vol.groups.length).filter((g) => this.vol.blocksUsable(g));
    const free: { group: number; bits: Uint8Array; bit: number }[] = [];
    let run: { group: number; bits: Uint8Array; bit: number }[] = [];
    for (const g of order) {
      if (this.vol.groups[g]!.freeBlocks === 0) continue;
      const bits = await this.vol.blockBitmap(g);
      const inGroup = Math.min(this.vol.blocksPerGroup, this.vol.blocksCount - this.vol.firstDataBlock - g * this.vol.blocksPerGroup);
      run = [];
      for (let bit = 0; bit < inGroup; bit++) {
        if (bits[bit >>> 3]! & (1 << (bit & 7))) {
          run = [];
          continue;
        }
        if (free.length < count) free.push({ group: g, bits, bit });
        run.push({ group: g, bits, bit });
        if (run.length === count) break;
      }
      if (run.length === count) break;
    }
    const chosen = run.length === count ? run : free;
    if (chosen.length < count) {
      const bytes = count * this.vol.blockSize;
      throw CardsmithError.keyed('too-small', 'ext4.noRoom', { offset: this.vol.offset, path: what, needed: bytes, free: this.vol.freeBlocksTotal() * this.vol.blockSize }, {
        offset: this.vol.offset,
        neededBytes: bytes,
      });
    }
    const extents: Extent[] = [];
    chosen.forEach(({ group, bits, bit }, logical) => {
      bits[bit >>> 3]! |= 1 << (bit & 7);
      this.vol.countBlocks(group, 1);
      this.changedGroups.add(group);
      const physical = this.vol.firstDataBlock + group * this.vol.blocksPerGroup + bit;
      const last = extents[extents.length - 1];
      if (last && last.physical + last.length === physical && last.length < MAX_EXTENT_LENGTH) extents[extents.length - 1] = { ...last, length: last.length + 1 };
      else extents.push({ logical, physical, length: 1 });
    });
    if (extents.length > 4) this.fail('ext4edit.fragmented', { path: what, extents: extents.length }, { path: what });
    return extents;
  }

  async freeBlocks(extents: readonly Extent[]): Promise<void> {
    for (const e of extents) {
      for (let b = e.physical; b < e.physical + e.length; b++) {
        const rel = b - this.vol.firstDataBlock;
        const g = Math.floor(rel / this.vol.blocksPerGroup);
        const bit = rel % this.vol.blocksPerGroup;
        const bits = await this.vol.blockBitmap(g);
        bits[bit >>> 3]! &= ~(1 << (bit & 7));
        this.vol.countBlocks(g, -1);
        this.changedGroups.add(g);
      }
    }
  }

  async allocateInode(goalGroup: number, path: string): Promise<number> {
    for (let i = 0; i < this.vol.groups.length; i++) {
      const g = (goalGroup + i) % this.vol.groups.length;
      if (!this.vol.inodesUsable(g) || this.vol.groups[g]!.freeInodes === 0) continue;
      const bits = await this.vol.inodeBitmap(g);
      for (let index = 0; index < this.vol.inodesPerGroup; index++) {
        const ino = g * this.vol.inodesPerGroup + index + 1;
        if (ino < this.vol.firstIno || bits[index >>> 3]! & (1 << (index & 7))) continue;
        bits[index >>> 3]! |= 1 << (index & 7);
        this.vol.countInode(g, index);
        this.changedGroups.add(g);
        return ino;
      }
    }
    throw CardsmithError.keyed('too-small', 'ext4.noInode', { offset: this.vol.offset, path }, { offset: this.vol.offset, path });
  }

  private writeData(extents: readonly Extent[], data: Uint8Array): void {
    const bs = this.vol.blockSize;
    for (const e of extents) for (let i = 0; i < e.length; i++) this.vol.setBlock(e.physical + i, data.subarray((e.logical + i) * bs, (e.logical + i + 1) * bs));
  }

  /** Sets size, block count, extent root and times of an inode whose data is `extents`. */
  private fillInode(inode: Uint8Array, extents: readonly Extent[], size: number, seed: number): void {
    const v = view(inode);
    const iblock = new Uint8Array(60);
    buildExtentTree(extents, [], iblock, seed);
    inode.set(iblock, 0x28);
    v.setUint32(0x4, size >>> 0, true);
    v.setUint32(0x6c, Math.floor(size / 2 ** 32), true);
    const xattrBlock = v.getUint32(0x68, true) + v.getUint16(0x76, true) * 2 ** 32;
    const blocks = extents.reduce((n, e) => n + e.length, 0) + (xattrBlock === 0 ? 0 : 1);
    const sectors = (blocks * this.vol.blockSize) / 512;
    v.setUint32(0x1c, sectors >>> 0, true);
    v.setUint16(0x74, Math.floor(sectors / 2 ** 32), true);
    v.setUint32(0x20, (v.getUint32(0x20, true) & ~HUGE_FILE_FL) | EXTENTS_FL, true);
    this.touch(inode);
  }

  /** mtime and ctime now (nanoseconds zero), where the inode has room for them. */
  private touch(inode: Uint8Array): void {
    const v = view(inode);
    const seconds = Math.floor(this.mtime);
    v.setUint32(0x0c, seconds >>> 0, true);
    v.setUint32(0x10, seconds >>> 0, true);
    const extra = inode.length > 128 ? v.getUint16(0x80, true) : 0;
    const epoch = Math.floor(seconds / 2 ** 32) & 3;
    if (extra >= 0x88 - 0x80) v.setUint32(0x84, epoch, true);
    if (extra >= 0x8c - 0x80) v.setUint32(0x88, epoch, true);
  }

  private setOwner(inode: Uint8Array, file: Ext4File, type: number): void {
    const v = view(inode);
    if (file.mode !== undefined) v.setUint16(0, type | (file.mode & 0o7777), true);
    if (file.uid !== undefined) {
      v.setUint16(0x2, file.uid & 0xffff, true);
      v.setUint16(0x78, file.uid >>> 16, true);
    }
    if (file.gid !== undefined) {
      v.setUint16(0x18, file.gid & 0xffff, true);
      v.setUint16(0x7a, file.gid >>> 16, true);
    }
  }

  async replace(file: Ext4File, found: { ino: number; inode: Uint8Array }): Promise<void> {
    const inode = found.inode;
    if ((view(inode).getUint16(0, true) & S_IFMT) !== S_IFREG) this.fail('ext4edit.existsNotFile', { path: file.path }, { path: file.path });
    if (view(inode).getUint16(0x1a, true) > 1) this.fail('ext4edit.hardLinks', { path: file.path }, { path: file.path });
    const old = this.extentsOf(inode, file.path);
    await this.freeBlocks(old);
    const count = Math.ceil(file.bytes.length / this.vol.blockSize);
    const extents = await this.allocateBlocks(count, this.vol.groupOfInode(found.ino), file.path);
    this.writeData(extents, file.bytes);
    this.setOwner(inode, file, S_IFREG);
    this.fillInode(inode, extents, file.bytes.length, this.vol.inodeCsumSeed(found.ino, inode));
    await this.vol.putInode(found.ino, inode);
  }

  async create(file: Ext4File, parent: Lookup, parentPath: string, name: Uint8Array): Promise<void> {
    if (view(parent.inode).getUint32(0x20, true) & INDEX_FL) {
      this.fail('ext4edit.htree', { path: parentPath }, { path: parentPath });
    }
    const goal = this.vol.groupOfInode(parent.ino);
    const ino = await this.allocateInode(goal, file.path);
    const count = Math.ceil(file.bytes.length / this.vol.blockSize);
    const extents = await this.allocateBlocks(count, goal, file.path);
    this.writeData(extents, file.bytes);
    const fields = { mode: S_IFREG | ((file.mode ?? 0o644) & 0o7777), uid: file.uid ?? 0, gid: file.gid ?? 0, size: 0, links: 1, mtime: this.mtime, sectors: 0, flags: EXTENTS_FL, xattrBlock: 0 };
    const inode = new Uint8Array(this.vol.inodeSize);
    inode.set(encodeInode(fields, new Uint8Array(60)).subarray(0, this.vol.inodeSize));
    this.fillInode(inode, extents, file.bytes.length, this.vol.inodeCsumSeed(ino, inode));
    await this.vol.putInode(ino, inode);
    await this.addEntry(parent, parentPath, name, ino);
  }

  /** Puts `name` → `ino` into the first directory block with room, growing the directory if none has. */
  private async addEntry(dir: Lookup, path: string, name: Uint8Array, ino: number): Promise<void> {
    const tail = this.vol.metadataCsum ? DIR_TAIL : 0;
    const need = entrySize(name.length);
    const seed = this.vol.inodeCsumSeed(dir.ino, dir.inode);
    for (const { block } of await this.dirBlocks(dir, path)) {
      const bytes = await this.vol.block(block);
      const end = bytes.length - tail;
      for (const e of this.entries(bytes.subarray(0, end))) {
        const used = e.ino === 0 ? 0 : entrySize(e.name.length);
        if (e.recLen - used < need) continue;
        if (used > 0) view(bytes).setUint16(e.at + 4, used, true);
        this.putEntry(bytes, e.at + used, e.recLen - used, name, ino);
        this.sealDirBlock(bytes, seed);
        await this.touchDir(dir);
        return;
      }
    }
    const extents = this.extentsOf(dir.inode, path);
    const size = view(dir.inode).getUint32(0x4, true);
    const logical = size / this.vol.blockSize;
    const [grown] = await this.allocateBlocks(1, this.vol.groupOfInode(dir.ino), `${path} (a directory block)`);
    const last = extents[extents.length - 1];
    if (last && last.logical + last.length === logical && last.physical + last.length === grown!.physical && last.length < MAX_EXTENT_LENGTH) {
      extents[extents.length - 1] = { ...last, length: last.length + 1 };
    } else {
      if (extents.length === 4) this.fail('ext4edit.dirFull', { path }, { path });
      extents.push({ logical, physical: grown!.physical, length: 1 });
    }
    const bytes = new Uint8Array(this.vol.blockSize);
    this.putEntry(bytes, 0, bytes.length - tail, name, ino);
    if (tail > 0) {
      view(bytes).setUint16(bytes.length - DIR_TAIL + 4, DIR_TAIL, true);
      bytes[bytes.length - DIR_TAIL + 7] = 0xde;
    }
    this.sealDirBlock(bytes, seed);
    this.vol.setBlock(grown!.physical, bytes);
    this.fillInode(dir.inode, extents, size + this.vol.blockSize, seed);
    await this.vol.putInode(dir.ino, dir.inode);
  }

  private putEntry(block: Uint8Array, at: number, recLen: number, name: Uint8Array, ino: number): void {
    const v = view(block);
    block.fill(0, at, at + recLen);
    v.setUint32(at, ino, true);
    v.setUint16(at + 4, recLen, true);
    block[at + 6] = name.length;
    block[at + 7] = this.vol.hasFiletype ? 1 : 0;
    block.set(name, at + 8);
  }

  private sealDirBlock(block: Uint8Array, seed: number): void {
    if (!this.vol.metadataCsum) return;
    const v = view(block);
    const at = block.length - DIR_TAIL;
    if (v.getUint32(at, true) !== 0 || v.getUint16(at + 4, true) !== DIR_TAIL || block[at + 7] !== 0xde) this.fail('ext4edit.noTail', {});
    v.setUint32(at + 8, crc32c(seed, block.subarray(0, at)), true);
  }

  private async touchDir(dir: Lookup): Promise<void> {
    this.touch(dir.inode);
    await this.vol.putInode(dir.ino, dir.inode);
  }
}

/**
 * The patches that put `files` into the ext4 filesystem at byte `offset` of what `read` sees;
 * `mtime` (Unix seconds) stamps the files and changed directories.
 */
export async function editExt4(read: ReadAt, offset: number, files: readonly Ext4File[], mtime: number): Promise<Patch[]> {
  for (const f of files) {
    if (f.bytes.length > MAX_EDIT_BYTES) {
      throw CardsmithError.keyed('bad-input', 'ext4.editTooLarge', { path: f.path, size: f.bytes.length, max: MAX_EDIT_BYTES }, { path: f.path });
    }
  }
  if (new Set(files.map((f) => f.path)).size !== files.length) throw CardsmithError.keyed('bad-input', 'ext4.twice', {}, {});
  const vol = await Ext4Volume.open(read, offset);
  const editor = new Editor(vol, mtime);
  for (const file of files) {
    const { parent, parentPath, name, found } = await editor.lookup(file.path);
    if (found) await editor.replace(file, found);
    else await editor.create(file, { ino: parent.ino, inode: await vol.inode(parent.ino) }, parentPath, name);
  }
  return vol.patches(editor.changedGroups);
}

/** Reads a small regular file from the ext4 filesystem at byte `offset`; null when it is missing. */
export async function readExt4File(read: ReadAt, offset: number, path: string, limit = 1024 * 1024): Promise<Uint8Array | null> {
  const vol = await Ext4Volume.open(read, offset);
  return new Editor(vol, 0).readFile(path, limit);
}
