/**
 * Exact ext4 sizing and allocation, before a single byte is written.
 *
 * The planner numbers every inode (2 = root, 8 = journal, 11 = lost+found, then the tree
 * depth-first), works out each inode's blocks (directory blocks from packed entries, file blocks
 * from data segments so holes stay unallocated, slow-symlink and xattr blocks), then lays out a
 * filesystem of a candidate size: group metadata, the journal, directories, files in content
 * order, extent-tree blocks after each file. The plan is the real allocation, so "it fits" is
 * exact, not an estimate. `minimal` searches upward for the smallest size that fits with the
 * requested free headroom; `fixed` lays out the given size or fails with 'too-small' stating
 * needed vs given bytes (fill-the-card is `fixed` at the card's size).
 */
import { CardsmithError } from '../../errors';
import { dataSegments, newDir, sortedNames, type DirNode, type FileNode, type FsNode, type FsTree } from '../tree';
import { packDirectory, type DirEntry } from './directory';
import {
  BLOCK_SIZE,
  BLOCKS_PER_GROUP,
  BlockAllocator,
  INODES_PER_BLOCK,
  makeGeometry,
  MAX_JOURNAL_BLOCKS,
  MIN_JOURNAL_BLOCKS,
  placeGroupMetadata,
  type Geometry,
  type GroupMeta,
  type Run,
} from './geometry';
import { extentTreeBlocks, MAX_EXTENT_LENGTH, type Extent } from './inode';
import { xattrPlacement, type XattrPlacement } from './xattr';

/**
 * `minimal`'s `alignBytes` (a multiple of the block size) rounds the smallest fitting size up to
 * a whole multiple, so the filesystem fills a partition aligned to it; the rest becomes headroom.
 */
export type Ext4Size =
  | { readonly kind: 'minimal'; readonly headroomBytes?: number; readonly alignBytes?: number }
  | { readonly kind: 'fixed'; readonly bytes: number };

export interface Ext4Options {
  readonly size: Ext4Size;
  /** Seeds the filesystem UUID, directory hash seed and journal sequence. */
  readonly seed: string;
  /** SOURCE_DATE_EPOCH: creation time, and the time of directories the source implies. */
  readonly timestamp: number;
  readonly label?: string;
  /** Blocks reserved for root, in percent; default 0 for minimal, 5 (like mke2fs) otherwise. */
  readonly reservedPercent?: number;
  /**
   * Journal size in blocks (MIN_JOURNAL_BLOCKS…MAX_JOURNAL_BLOCKS), like `mke2fs -J size=`;
   * default: mke2fs's size for the filesystem's size.
   */
  readonly journalBlocks?: number;
}

export const ROOT_INO = 2;
export const JOURNAL_INO = 8;
export const FIRST_INO = 11;
export const DEFAULT_HEADROOM = 16 * 1024 * 1024;
/** mke2fs's default inode ratio, applied to the room a filesystem has for new files. */
const BYTES_PER_INODE = 16384;
/** Inodes beyond the ratio for what a first boot creates (logs, keys, state files, lost+found's). */
const SPARE_INODES = 256;
const SLOW_SYMLINK_MAX = BLOCK_SIZE - 1;

export interface InodePlan {
  readonly ino: number;
  /** Tree node; the journal is a synthetic file node. */
  readonly node: FsNode;
  readonly path: string;
  readonly links: number;
  readonly xattrs: XattrPlacement;
  /** Directory contents, blocks in order (directories only). */
  readonly dirBlocks: readonly (readonly DirEntry[])[];
  extents: Extent[];
  treeBlocks: number[];
  xattrBlock: number;
}

export interface Ext4Report {
  readonly sizeBytes: number;
  /** Smallest filesystem that holds this tree (no headroom). */
  readonly neededBytes: number;
  readonly dataBytes: number;
  readonly metadataBytes: number;
  readonly freeBytes: number;
  readonly inodesUsed: number;
  readonly inodesTotal: number;
}

export interface Ext4Plan {
  readonly geometry: Geometry;
  readonly groups: readonly GroupMeta[];
  /** Final block bitmap of the whole filesystem. */
  readonly allocator: BlockAllocator;
  /** Inodes by number (1-based; index 0 unused; reserved inodes absent). */
  readonly inodes: readonly (InodePlan | undefined)[];
  readonly fileInodes: ReadonlyMap<FileNode, InodePlan>;
  readonly reservedBlocks: number;
  readonly options: Ext4Options;
  readonly report: Ext4Report;
}

const DIRENT_TYPE: Record<FsNode['kind'], number> = { file: 1, dir: 2, char: 3, block: 4, fifo: 5, socket: 6, symlink: 7 };

/** Logical block runs holding data (block-aligned union of the data segments). */
export function logicalRuns(file: FileNode): Run[] {
  const runs: Run[] = [];
  for (const segment of dataSegments(file)) {
    if (segment.length === 0) continue;
    const first = Math.floor(segment.offset / BLOCK_SIZE);
    const end = Math.ceil((segment.offset + segment.length) / BLOCK_SIZE);
    const last = runs[runs.length - 1];
    if (last && first <= last.start + last.length) {
      runs[runs.length - 1] = { start: last.start, length: Math.max(last.start + last.length, end) - last.start };
    } else runs.push({ start: first, length: end - first });
  }
  return runs;
}

function dataBlocksOf(plan: InodePlan): number {
  const node = plan.node;
  switch (node.kind) {
    case 'file':
      return logicalRuns(node).reduce((n, r) => n + r.length, 0);
    case 'dir':
      return plan.dirBlocks.length;
    case 'symlink':
      return Buffer.byteLength(node.target) < 60 ? 0 : 1;
    case 'char':
    case 'block':
    case 'fifo':
    case 'socket':
      return 0;
  }
}

/** Numbers the inodes and packs directories: everything that does not depend on the size. */
function numberInodes(tree: FsTree, options: Ext4Options): { inodes: InodePlan[]; journal: InodePlan } {
  const implied = { uid: 0, gid: 0, mtime: options.timestamp, xattrs: new Map<string, Uint8Array>() };
  const lostFound = tree.root.entries.get('lost+found');
  const extraLostFound = lostFound ? null : newDir({ mode: 0o700, ...implied });
  const ino = new Map<FsNode, number>();
  const paths = new Map<FsNode, string>();
  const order: FsNode[] = [];
  const links = new Map<FsNode, number>();
  const parents = new Map<FsNode, number>();
  const childrenOf = (dir: DirNode): [string, FsNode][] => {
    const names = sortedNames(dir).map((name): [string, FsNode] => [name, dir.entries.get(name)!]);
    if (dir === tree.root && extraLostFound) names.push(['lost+found', extraLostFound]);
    return names;
  };
  ino.set(tree.root, ROOT_INO);
  paths.set(tree.root, '');
  let next = FIRST_INO;
  if (extraLostFound) {
    ino.set(extraLostFound, next++);
    paths.set(extraLostFound, 'lost+found');
  }
  const visit = (dir: DirNode, path: string): void => {
    for (const [name, node] of childrenOf(dir)) {
      const child = path ? `${path}/${name}` : name;
      links.set(node, (links.get(node) ?? 0) + 1);
      if (!ino.has(node)) {
        ino.set(node, next++);
        paths.set(node, child);
        parents.set(node, ino.get(dir)!);
        order.push(node);
      }
      if (node.kind === 'dir') visit(node, child);
    }
  };
  visit(tree.root, '');

  const planOf = (node: FsNode, number: number): InodePlan => {
    const path = paths.get(node) ?? '';
    let dirBlocks: DirEntry[][] = [];
    let count = links.get(node) ?? 1;
    if (node.kind === 'dir') {
      const children = childrenOf(node);
      const parent = parents.get(node) ?? ROOT_INO;
      const entries: DirEntry[] = [
        { name: Buffer.from('.'), ino: number, type: 2 },
        { name: Buffer.from('..'), ino: parent, type: 2 },
        ...children.map(([name, child]) => ({ name: Buffer.from(name), ino: ino.get(child)!, type: DIRENT_TYPE[child.kind] })),
      ];
      dirBlocks = packDirectory(entries, node === extraLostFound || path === 'lost+found' ? 4 : 1);
      const subdirs = children.filter(([, child]) => child.kind === 'dir').length;
      // dir_nlink: past the 16-bit limit a directory's link count is 1 ("many").
      count = 2 + subdirs > 65000 ? 1 : 2 + subdirs;
    }
    if (node.kind === 'symlink' && Buffer.byteLength(node.target) > SLOW_SYMLINK_MAX) {
      throw CardsmithError.keyed('bad-input', 'rootfs.longSymlink', { path, max: SLOW_SYMLINK_MAX }, { path });
    }
    return { ino: number, node, path, links: count, xattrs: xattrPlacement(node.xattrs, path), dirBlocks, extents: [], treeBlocks: [], xattrBlock: 0 };
  };

  const inodes = [planOf(tree.root, ROOT_INO)];
  if (extraLostFound) inodes.push(planOf(extraLostFound, FIRST_INO));
  for (const node of order) inodes.push(planOf(node, ino.get(node)!));
  const journalNode: FileNode = { kind: 'file', size: 0, sparseMap: null, mode: 0o600, ...implied };
  const journal: InodePlan = { ino: JOURNAL_INO, node: journalNode, path: '<journal>', links: 1, xattrs: 'none', dirBlocks: [], extents: [], treeBlocks: [], xattrBlock: 0 };
  return { inodes, journal };
}

/** Maps logical runs onto allocated physical runs, split at 32768 blocks. */
function mapExtents(logical: readonly Run[], physical: readonly Run[]): Extent[] {
  const extents: Extent[] = [];
  let p = 0;
  let pUsed = 0;
  for (const run of logical) {
    let done = 0;
    while (done < run.length) {
      const phys = physical[p]!;
      const length = Math.min(run.length - done, phys.length - pUsed, MAX_EXTENT_LENGTH);
      extents.push({ logical: run.start + done, physical: phys.start + pUsed, length });
      done += length;
      pUsed += length;
      if (pUsed === phys.length) {
        p++;
        pUsed = 0;
      }
    }
  }
  return extents;
}

interface Attempt {
  readonly fits: boolean;
  /** The layout, when it fits and was asked for (a search only needs to know whether it fits). */
  readonly plan: Ext4Plan | null;
  /** Blocks short (allocation failed or headroom missing) when it does not fit. */
  readonly shortBy: number;
  /** Free blocks beyond the headroom when the plan fits. */
  readonly surplus?: number;
}

/**
 * The numbered inodes plus what every attempt needs about the files, worked out once: which inode
 * each file of the content order is and its logical runs (a search makes a dozen attempts).
 */
interface Numbered {
  readonly inodes: InodePlan[];
  readonly journal: InodePlan;
  readonly lastIno: number;
  readonly files: readonly { readonly file: FileNode; readonly index: number; readonly runs: readonly Run[] }[];
}

function prepare(numbered: { inodes: InodePlan[]; journal: InodePlan }, files: readonly FileNode[]): Numbered {
  const indexOf = new Map(numbered.inodes.map((plan, index) => [plan.node, index]));
  return {
    ...numbered,
    lastIno: numbered.inodes.reduce((m, i) => Math.max(m, i.ino), FIRST_INO),
    files: files.flatMap((file) => {
      const index = indexOf.get(file);
      return index === undefined ? [] : [{ file, index, runs: logicalRuns(file) }];
    }),
  };
}

/**
 * Lays out a filesystem of `blocksCount`. Without `keep` it only allocates, to learn whether the
 * tree fits: a search's many attempts then leave no per-inode objects behind (on a large tree
 * those would be most of the build's memory), and only the chosen size is laid out again, kept.
 */
function attempt(blocksCount: number, inodesWanted: number, numbered: Numbered, options: Ext4Options, headroomBlocks: number, keep: boolean): Attempt {
  const geometry = makeGeometry(blocksCount, inodesWanted, options.journalBlocks);
  const lastIno = numbered.lastIno;
  if (geometry.inodesPerGroup * geometry.groups < lastIno) return { fits: false, plan: null, shortBy: BLOCKS_PER_GROUP };
  const alloc = new BlockAllocator(blocksCount);
  const groups = placeGroupMetadata(geometry, alloc);
  if (!groups) return { fits: false, plan: null, shortBy: BLOCKS_PER_GROUP / 4 };
  const fresh = (plan: InodePlan): InodePlan => ({ ...plan, extents: [], treeBlocks: [], xattrBlock: 0 });
  const inodes = keep ? numbered.inodes.map(fresh) : numbered.inodes;
  const journal = keep ? fresh(numbered.journal) : numbered.journal;
  let short = 0;

  const place = (plan: InodePlan, logical: readonly Run[]): void => {
    const count = logical.reduce((n, r) => n + r.length, 0);
    if (count > 0 && !keep && logical.length === 1) {
      // Whether it fits is all a search asks: count the extents, build none.
      const extents = alloc.allocateCount(count, MAX_EXTENT_LENGTH);
      if (extents === null) {
        short += count;
        return;
      }
      const tree = extentTreeBlocks(extents);
      if (tree > 0 && !alloc.allocate(tree)) short += tree;
    } else if (count > 0) {
      const physical = alloc.allocate(count);
      if (!physical) {
        short += count;
        return;
      }
      const extents = mapExtents(logical, physical);
      if (keep) plan.extents = extents;
      const tree = extentTreeBlocks(extents.length);
      if (tree > 0) {
        const treeRuns = alloc.allocate(tree);
        if (!treeRuns) short += tree;
        else if (keep) plan.treeBlocks = treeRuns.flatMap((r) => Array.from({ length: r.length }, (_, i) => r.start + i));
      }
    }
    if (plan.xattrs === 'block') {
      const block = alloc.allocate(1);
      if (!block) short += 1;
      else if (keep) plan.xattrBlock = block[0]!.start;
    }
  };

  place(journal, [{ start: 0, length: geometry.journalBlocks }]);
  for (const plan of inodes) {
    if (plan.node.kind !== 'file') place(plan, [{ start: 0, length: dataBlocksOf(plan) }]);
  }
  for (const { index, runs } of numbered.files) place(inodes[index]!, runs);

  const used = alloc.usedIn(0, blocksCount);
  const free = blocksCount - used;
  if (short > 0 || free < headroomBlocks) return { fits: false, plan: null, shortBy: short + Math.max(0, headroomBlocks - free) };
  if (!keep) return { fits: true, plan: null, shortBy: 0, surplus: free - headroomBlocks };

  const table: (InodePlan | undefined)[] = [];
  for (const plan of [journal, ...inodes]) table[plan.ino] = plan;
  const fileInodes = new Map<FileNode, InodePlan>();
  for (const { file, index } of numbered.files) fileInodes.set(file, inodes[index]!);
  const dataBlocks = inodes
    .filter((p) => p.node.kind === 'file' || p.node.kind === 'symlink')
    .reduce((n, p) => n + p.extents.reduce((m, e) => m + e.length, 0), 0);
  const percent = options.reservedPercent ?? (options.size.kind === 'minimal' ? 0 : 5);
  return {
    fits: true,
    shortBy: 0,
    surplus: free - headroomBlocks,
    plan: {
      geometry,
      groups,
      allocator: alloc,
      inodes: table,
      fileInodes,
      reservedBlocks: Math.floor((blocksCount * percent) / 100),
      options,
      report: {
        sizeBytes: blocksCount * BLOCK_SIZE,
        neededBytes: 0,
        dataBytes: dataBlocks * BLOCK_SIZE,
        metadataBytes: (used - dataBlocks) * BLOCK_SIZE,
        freeBytes: free * BLOCK_SIZE,
        inodesUsed: lastIno,
        inodesTotal: geometry.inodesPerGroup * geometry.groups,
      },
    },
  };
}

/** Keeps the last group big enough for its own metadata; a tiny tail is left unused. */
function trimTail(blocks: number): number {
  const tail = blocks % BLOCKS_PER_GROUP;
  return blocks > BLOCKS_PER_GROUP && tail > 0 && tail < 1024 ? blocks - tail : blocks;
}

/** The smallest block count that holds the tree with `headroomBlocks` free. */
function searchMinimal(numbered: Numbered, options: Ext4Options, headroomBlocks: number, inodesWanted: number): number {
  const estimate = numbered.inodes.reduce((n, p) => n + dataBlocksOf(p) + (p.xattrs === 'block' ? 1 : 0), 0);
  const usable = (blocks: number): number => {
    const tail = blocks % BLOCKS_PER_GROUP;
    return blocks > BLOCKS_PER_GROUP && tail > 0 && tail < 1024 ? blocks + 1024 - tail : blocks;
  };
  // Step by the exact shortfall or surplus each attempt reports (a few attempts), then bisect
  // the small window left by metadata that changes with the size.
  let low = Math.max(2047, estimate + headroomBlocks - 1);
  let high = Number.POSITIVE_INFINITY;
  let best: number | null = null;
  let blocks = Math.max(2048, estimate + headroomBlocks + Math.ceil(inodesWanted / INODES_PER_BLOCK));
  for (let tries = 0; tries < 64 && high - low > 1; tries++) {
    const result = attempt(usable(blocks), inodesWanted, numbered, options, headroomBlocks, false);
    if (result.fits) {
      best = usable(blocks);
      high = blocks;
      blocks = blocks - Math.max(1, result.surplus ?? 0);
    } else {
      low = blocks;
      blocks = blocks + Math.max(1, result.shortBy);
    }
    if (blocks <= low || blocks >= high) blocks = high === Number.POSITIVE_INFINITY ? low + 2 * Math.max(16, blocks - low) : Math.floor((low + high) / 2);
  }
  if (best === null) throw new CardsmithError('internal', 'ext4 sizing did not converge', { blocks });
  return best;
}

/** Lays out `tree` as an ext4 filesystem of the requested size. Pure; nothing is written. */
export function planExt4(tree: FsTree, options: Ext4Options): Ext4Plan {
  const journal = options.journalBlocks;
  if (journal !== undefined && !(Number.isInteger(journal) && journal >= MIN_JOURNAL_BLOCKS && journal <= MAX_JOURNAL_BLOCKS)) {
    throw CardsmithError.keyed('bad-input', 'ext4.journal', { blocks: journal, min: MIN_JOURNAL_BLOCKS, max: MAX_JOURNAL_BLOCKS }, { journalBlocks: journal });
  }
  const numbered = prepare(numberInodes(tree, options), tree.files);
  // Inodes: one per entry, SPARE_INODES more, and one per BYTES_PER_INODE of free space (a
  // minimal root's headroom, a fixed size's whole room) — never a ratio over the data as well.
  const used = numbered.inodes.length + FIRST_INO;
  const inodesFor = (freeBytes: number): number => used + SPARE_INODES + Math.floor(freeBytes / BYTES_PER_INODE);
  const neededBlocks = searchMinimal(numbered, { ...options, size: { kind: 'minimal', headroomBytes: 0 } }, 0, inodesFor(0));
  const neededBytes = neededBlocks * BLOCK_SIZE;
  let plan: Ext4Plan;
  if (options.size.kind === 'minimal') {
    const headroom = Math.ceil((options.size.headroomBytes ?? DEFAULT_HEADROOM) / BLOCK_SIZE);
    const inodesWanted = inodesFor(headroom * BLOCK_SIZE);
    const found = headroom === 0 ? neededBlocks : searchMinimal(numbered, options, headroom, inodesWanted);
    const alignBlocks = Math.max(1, Math.floor((options.size.alignBytes ?? 0) / BLOCK_SIZE));
    // A found size's last group is empty or holds ≥ 1024 blocks, so rounding up adds no group
    // and only frees blocks: the larger layout fits whenever the smaller one did.
    const aligned = Math.ceil(found / alignBlocks) * alignBlocks;
    const laid = attempt(aligned, inodesWanted, numbered, options, headroom, true).plan ?? attempt(found, inodesWanted, numbered, options, headroom, true).plan;
    if (!laid) throw new CardsmithError('internal', 'ext4 sizing found a size that does not fit', { blocks: found });
    plan = laid;
  } else {
    const given = options.size.bytes;
    const blocks = trimTail(Math.floor(given / BLOCK_SIZE));
    const byRatio = Math.floor((blocks * BLOCK_SIZE) / BYTES_PER_INODE);
    const result = blocks >= 2048 ? attempt(blocks, Math.max(inodesFor(0), byRatio), numbered, options, 0, true) : null;
    const fallback = result?.plan ?? (blocks >= 2048 ? attempt(blocks, inodesFor(0), numbered, options, 0, true).plan : null);
    if (!fallback) {
      throw CardsmithError.keyed('too-small', 'build.ext4TooSmall', { needed: neededBytes, given }, {
        neededBytes,
        givenBytes: given,
      });
    }
    plan = fallback;
  }
  return { ...plan, report: { ...plan.report, neededBytes } };
}
