/**
 * ext4 writer: turns an FsTree plus its file contents into an ext4 filesystem through a
 * BlockSink, without mkfs, root or a kernel.
 *
 *   const plan = planExt4(tree, { size, seed, timestamp })   // pure, exact, may throw too-small
 *   await writeExt4(plan, sink, source.contents(), { signal, onProgress })
 *
 * Feature set (what mke2fs 1.47 picks by default for a card-sized ext4, minus what a fresh image
 * does not need), accepted by Linux ≥ 3.18 and e2fsprogs ≥ 1.43:
 *   has_journal    a jbd2 journal (inode 8, ≤ 64 MiB, zeroed) so power loss on a card is survivable
 *   ext_attr       xattrs: security.capability (ping, file caps), user.*, ACLs
 *   dir_index      lets the kernel index directories it grows later; ours are linear (valid)
 *   filetype       dirent file types (every tool expects them)
 *   extent         extents instead of block maps: compact metadata, holes for free
 *   64bit          64-byte group descriptors carrying checksum high halves (and >16 TiB someday)
 *   flex_bg        bitmaps and inode tables packed per 16 groups: fewer seeks, contiguous data
 *   sparse_super   superblock backups in groups 0, 1, 3^n, 5^n, 7^n only
 *   large_file, huge_file   files over 2 GiB (the 2 GiB sparse fixture) and big i_blocks
 *   dir_nlink      directories with more than 65000 subdirectories
 *   extra_isize    256-byte inodes with nanosecond times and crtime
 *   metadata_csum  CRC32C on superblock, descriptors, bitmaps, inodes, extent, directory and xattr
 *                  blocks; it also makes group flags trustworthy, so inode tables stay
 *                  uninitialised (lazy init) and a 64 GB filesystem costs a few MiB to write.
 * Left out: resize_inode (no reserved GDT blocks; online grow still works through meta_bg),
 * uninit_bg (superseded by metadata_csum), inline_data and orphan_file (too new for some vendor
 * kernels), casefold and encryption.
 *
 * Determinism: UUID and hash seed derive from `seed`; every time comes from the tree or from
 * `timestamp`; directory entries are sorted; the allocation is a pure function of the plan.
 * Write order: file contents first, metadata last, the primary superblock at the very end.
 */
import { CardsmithError } from '../../errors';
import type { BlockSink } from '../sink';
import { dataSegments, type FileContent, type FileNode } from '../tree';
import { encodeDirBlock } from './directory';
import { BLOCK_SIZE, BLOCKS_PER_GROUP, groupBlocks, groupStart, hasSuperBackup, INODE_SIZE, INODES_PER_BLOCK } from './geometry';
import { buildExtentTree, deviceIblock, encodeInode, EXTENTS_FL, inodeSeed, sealInode, type Extent } from './inode';
import {
  bitmapCsum,
  blockBitmap,
  encodeGroupDescriptors,
  encodeJournalSuperblock,
  encodeSuperblock,
  identityFromSeed,
  inodeBitmap,
  superblockGroups,
  type GroupState,
  type Identity,
} from './metadata';
import { JOURNAL_INO, type Ext4Plan, type InodePlan } from './plan';
import { encodeXattrBlock, writeInodeXattrs } from './xattr';

export { planExt4, type Ext4Options, type Ext4Plan, type Ext4Report, type Ext4Size } from './plan';

export interface WriteOptions {
  readonly signal?: AbortSignal;
  /** Bytes of file content written so far. */
  readonly onProgress?: (bytes: number) => void;
}

const STAGE_BLOCKS = 256;

const TYPE_BITS: Record<InodePlan['node']['kind'], number> = {
  file: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  char: 0o020000,
  block: 0o060000,
  fifo: 0o010000,
  socket: 0o140000,
};

/** Collects a file's bytes into block-aligned runs so partial blocks are zero-filled. */
class BlockStager {
  private start = -1;
  private touched = 0;
  private readonly buffer = new Uint8Array(STAGE_BLOCKS * BLOCK_SIZE);

  constructor(private readonly sink: BlockSink) {}

  async put(physicalByte: number, data: Uint8Array): Promise<void> {
    let at = physicalByte;
    let rest = data;
    while (rest.length > 0) {
      const block = Math.floor(at / BLOCK_SIZE);
      if (this.start < 0 || block < this.start || block > this.start + this.touched || block >= this.start + STAGE_BLOCKS) {
        await this.flush();
        this.start = block;
      }
      const within = at - this.start * BLOCK_SIZE;
      const take = Math.min(rest.length, this.buffer.length - within);
      this.buffer.set(rest.subarray(0, take), within);
      this.touched = Math.max(this.touched, Math.ceil((within + take) / BLOCK_SIZE));
      at += take;
      rest = rest.subarray(take);
    }
  }

  async flush(): Promise<void> {
    if (this.start >= 0 && this.touched > 0) {
      const used = this.buffer.subarray(0, this.touched * BLOCK_SIZE);
      // Sinks are done with the bytes once write() resolves, so the buffer is reused.
      await this.sink.write(this.start * BLOCK_SIZE, used);
      used.fill(0);
    }
    this.start = -1;
    this.touched = 0;
  }
}

function findExtent(extents: readonly Extent[], logical: number, hint: number): number {
  for (let i = hint; i < extents.length; i++) {
    const e = extents[i]!;
    if (logical >= e.logical && logical < e.logical + e.length) return i;
  }
  for (let i = 0; i < hint; i++) {
    const e = extents[i]!;
    if (logical >= e.logical && logical < e.logical + e.length) return i;
  }
  return -1;
}

async function writeContents(plan: Ext4Plan, sink: BlockSink, contents: AsyncIterable<FileContent>, options: WriteOptions): Promise<void> {
  const stager = new BlockStager(sink);
  const seen = new Set<FileNode>();
  let total = 0;
  for await (const { file, chunks } of contents) {
    const inode = plan.fileInodes.get(file);
    if (!inode) throw new CardsmithError('internal', 'content for a file that is not in the plan');
    seen.add(file);
    let hint = 0;
    let bytes = 0;
    for await (const chunk of chunks) {
      options.signal?.throwIfAborted();
      let offset = chunk.offset;
      let rest = chunk.data;
      while (rest.length > 0) {
        const logical = Math.floor(offset / BLOCK_SIZE);
        hint = findExtent(inode.extents, logical, hint);
        if (hint < 0 || offset + rest.length > file.size) {
          throw CardsmithError.keyed('source-corrupt', 'ext4.dataOutside', { path: inode.path }, { path: inode.path, offset });
        }
        const extent = inode.extents[hint]!;
        const extentEnd = (extent.logical + extent.length) * BLOCK_SIZE;
        const take = Math.min(rest.length, extentEnd - offset);
        await stager.put((extent.physical - extent.logical) * BLOCK_SIZE + offset, rest.subarray(0, take));
        offset += take;
        bytes += take;
        rest = rest.subarray(take);
      }
      options.onProgress?.((total += chunk.data.length));
    }
    const expected = dataSegments(file).reduce((n, s) => n + s.length, 0);
    if (bytes !== expected) throw CardsmithError.keyed('source-corrupt', 'ext4.changed', { path: inode.path }, { path: inode.path });
    await stager.flush();
  }
  for (const [file, inode] of plan.fileInodes) {
    if (!seen.has(file) && inode.extents.length > 0) {
      throw CardsmithError.keyed('source-corrupt', 'ext4.neverArrived', { path: inode.path }, { path: inode.path });
    }
  }
}

/** Writes `blocks` at the physical positions of an inode's logical blocks 0, 1, 2… */
async function writeLogical(sink: BlockSink, extents: readonly Extent[], blocks: readonly Uint8Array[]): Promise<void> {
  let index = 0;
  for (const extent of extents) {
    for (let i = 0; i < extent.length && index < blocks.length; i++) await sink.write((extent.physical + i) * BLOCK_SIZE, blocks[index++]!);
  }
}

/** Encodes one inode and writes its directory, symlink, extent-tree and xattr blocks. */
async function writeInode(plan: Ext4Plan, sink: BlockSink, inode: InodePlan, identity: Identity): Promise<Uint8Array> {
  const node = inode.node;
  const seed = inodeSeed(identity.csumSeed, inode.ino);
  let iblock: Uint8Array = new Uint8Array(60);
  let flags = 0;
  let size = 0;
  if (node.kind === 'dir') {
    await writeLogical(sink, inode.extents, inode.dirBlocks.map((entries) => encodeDirBlock(entries, seed)));
    size = inode.dirBlocks.length * BLOCK_SIZE;
  } else if (node.kind === 'file') {
    size = inode.ino === JOURNAL_INO ? plan.geometry.journalBlocks * BLOCK_SIZE : node.size;
  } else if (node.kind === 'symlink') {
    const target = Buffer.from(node.target, 'utf8');
    size = target.length;
    if (target.length < 60) iblock = Uint8Array.from(Buffer.concat([target, Buffer.alloc(60 - target.length)]));
    else {
      const block = new Uint8Array(BLOCK_SIZE);
      block.set(target);
      await writeLogical(sink, inode.extents, [block]);
    }
  } else if (node.kind === 'char' || node.kind === 'block') {
    iblock = deviceIblock(node.major, node.minor);
  }
  const usesExtents = inode.extents.length > 0 || node.kind === 'file' || node.kind === 'dir';
  if (usesExtents) {
    flags |= EXTENTS_FL;
    for (const tree of buildExtentTree(inode.extents, inode.treeBlocks, iblock, seed)) await sink.write(tree.block * BLOCK_SIZE, tree.data);
  }
  if (inode.xattrBlock) {
    await sink.write(inode.xattrBlock * BLOCK_SIZE, encodeXattrBlock(node.xattrs, inode.path, inode.xattrBlock, identity.csumSeed));
  }
  const blocks = inode.extents.reduce((n, e) => n + e.length, 0) + inode.treeBlocks.length + (inode.xattrBlock ? 1 : 0);
  const encoded = encodeInode(
    {
      mode: TYPE_BITS[node.kind] | (node.mode & 0o7777),
      uid: node.uid,
      gid: node.gid,
      size,
      links: inode.links,
      mtime: node.mtime,
      sectors: blocks * (BLOCK_SIZE / 512),
      flags,
      xattrBlock: inode.xattrBlock,
    },
    iblock,
  );
  if (inode.xattrs === 'inode') writeInodeXattrs(encoded, node.xattrs, inode.path);
  sealInode(encoded, identity.csumSeed, inode.ino);
  return encoded;
}

async function writeMetadata(plan: Ext4Plan, sink: BlockSink, identity: Identity): Promise<void> {
  const { geometry } = plan;
  const ipg = geometry.inodesPerGroup;
  const lastIno = plan.report.inodesUsed;
  const tables = new Map<number, Uint8Array>();
  const dirsPerGroup = new Array<number>(geometry.groups).fill(0);
  for (const inode of plan.inodes) {
    if (!inode) continue;
    const encoded = await writeInode(plan, sink, inode, identity);
    const group = Math.floor((inode.ino - 1) / ipg);
    const index = (inode.ino - 1) % ipg;
    if (inode.node.kind === 'dir') dirsPerGroup[group]!++;
    const block = plan.groups[group]!.inodeTable + Math.floor(index / INODES_PER_BLOCK);
    let table = tables.get(block);
    if (!table) tables.set(block, (table = new Uint8Array(BLOCK_SIZE)));
    table.set(encoded, (index % INODES_PER_BLOCK) * INODE_SIZE);
  }

  const states: GroupState[] = [];
  let freeBlocks = 0;
  let freeInodes = 0;
  for (let g = 0; g < geometry.groups; g++) {
    const meta = plan.groups[g]!;
    const usedInodes = Math.min(ipg, Math.max(0, lastIno - g * ipg));
    for (let b = 0; b < Math.ceil(usedInodes / INODES_PER_BLOCK); b++) {
      const block = meta.inodeTable + b;
      await sink.write(block * BLOCK_SIZE, tables.get(block) ?? new Uint8Array(BLOCK_SIZE));
    }
    const count = groupBlocks(geometry, g);
    const used = plan.allocator.usedIn(groupStart(g), count);
    const superOnly = hasSuperBackup(g) ? 1 + geometry.gdtBlocks : 0;
    const blocks = blockBitmap(geometry, plan.allocator.bits, g);
    const inodes = inodeBitmap(geometry, usedInodes);
    await sink.write(meta.blockBitmap * BLOCK_SIZE, blocks);
    await sink.write(meta.inodeBitmap * BLOCK_SIZE, inodes);
    states.push({
      ...meta,
      freeBlocks: count - used,
      freeInodes: ipg - usedInodes,
      usedDirs: dirsPerGroup[g]!,
      usedInodes,
      blockUninit: g < geometry.groups - 1 && used === superOnly,
      blockBitmapCsum: bitmapCsum(identity.csumSeed, blocks, BLOCKS_PER_GROUP / 8),
      inodeBitmapCsum: bitmapCsum(identity.csumSeed, inodes, ipg / 8),
    });
    freeBlocks += count - used;
    freeInodes += ipg - usedInodes;
  }

  const journal = plan.inodes[JOURNAL_INO]!;
  const journalIblock = new Uint8Array(60);
  buildExtentTree(journal.extents, journal.treeBlocks, journalIblock, 0);
  const superFields = {
    geometry,
    identity,
    freeBlocks,
    freeInodes,
    reservedBlocks: plan.reservedBlocks,
    timestamp: plan.options.timestamp,
    label: plan.options.label ?? '',
    journalIblock,
    journalBytes: geometry.journalBlocks * BLOCK_SIZE,
  };
  const descriptors = encodeGroupDescriptors(geometry, states, identity.csumSeed);
  // Backups first, the primary superblock last: an interrupted write leaves no valid filesystem.
  for (const g of superblockGroups(geometry).reverse()) {
    const first = new Uint8Array(BLOCK_SIZE);
    first.set(encodeSuperblock(superFields, g), g === 0 ? 1024 : 0);
    await sink.write((groupStart(g) + 1) * BLOCK_SIZE, descriptors);
    await sink.write(groupStart(g) * BLOCK_SIZE, first);
  }
}

async function writeJournal(plan: Ext4Plan, sink: BlockSink, identity: Identity): Promise<void> {
  const journal = plan.inodes[JOURNAL_INO]!;
  const zeros = new Uint8Array(STAGE_BLOCKS * BLOCK_SIZE);
  let first = true;
  for (const extent of journal.extents) {
    for (let done = 0; done < extent.length; done += STAGE_BLOCKS) {
      const count = Math.min(STAGE_BLOCKS, extent.length - done);
      await sink.write((extent.physical + done) * BLOCK_SIZE, zeros.subarray(0, count * BLOCK_SIZE));
    }
    if (first) await sink.write(extent.physical * BLOCK_SIZE, encodeJournalSuperblock(plan.geometry.journalBlocks, identity));
    first = false;
  }
}

/** Writes the planned filesystem into `sink` (offset 0 = the filesystem's first byte). */
export async function writeExt4(plan: Ext4Plan, sink: BlockSink, contents: AsyncIterable<FileContent>, options: WriteOptions = {}): Promise<void> {
  const identity = identityFromSeed(plan.options.seed);
  await writeContents(plan, sink, contents, options);
  options.signal?.throwIfAborted();
  await writeJournal(plan, sink, identity);
  await writeMetadata(plan, sink, identity);
}
