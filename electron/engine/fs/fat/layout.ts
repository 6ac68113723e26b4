/**
 * FAT layout: how a partition of N sectors is carved up and where every file goes. Regions in
 * order: reserved sectors (boot sector, FSInfo and the backup boot sector on FAT32), two copies of
 * the file allocation table, on FAT16 a fixed root directory, then the data area of equal clusters
 * numbered from 2. Whether a volume is FAT16 or FAT32 is decided by nothing but its cluster count
 * (4085..65524 is FAT16, more is FAT32), so the cluster size is chosen to land in the wanted range;
 * the data area is aligned to a cluster so clusters sit on card-friendly boundaries.
 *
 * Files and directories get contiguous cluster runs in depth-first order, so the FAT is a set of
 * simple chains and the image is written front to back. Planning is pure; writing is in write.ts.
 */
import { CardsmithError } from '../../errors';
import { assignNames, checkLongName, entryCount, foldName, type DirName } from './names';

export interface FatFile {
  readonly kind: 'file';
  readonly name: string;
  readonly size: number;
  /** Unix seconds. */
  readonly mtime: number;
  /** The file's bytes, in order, `size` in total. */
  readonly content: () => AsyncIterable<Uint8Array>;
}

export interface FatDir {
  readonly kind: 'dir';
  readonly name: string;
  readonly mtime: number;
  readonly children: readonly FatNode[];
}

export type FatNode = FatFile | FatDir;
export type FatType = 'fat16' | 'fat32';

export const SECTOR = 512;
const FAT16_MIN_CLUSTERS = 4085;
const FAT16_MAX_CLUSTERS = 65524;
const FAT32_MAX_CLUSTERS = 0x0ffffff5;
const MIB = 1024 * 1024;

export interface FatGeometry {
  readonly type: FatType;
  readonly totalSectors: number;
  readonly sectorsPerCluster: number;
  readonly reservedSectors: number;
  readonly fatSectors: number;
  /** FAT16 fixed root directory entries (0 on FAT32). */
  readonly rootEntries: number;
  readonly dataStartSector: number;
  readonly clusterCount: number;
}

export interface FatOptions {
  readonly sizeBytes: number;
  /** Up to 11 characters; upper-cased. */
  readonly label?: string;
  readonly volumeId: number;
  /** Default: FAT16 below 512 MiB, FAT32 from there on. */
  readonly type?: FatType;
  /** Partition start in sectors (the BPB's hidden sectors). */
  readonly hiddenSectors?: number;
  /** Timestamp of the root and the volume label, Unix seconds. */
  readonly mtime: number;
}

export interface PlacedDir {
  readonly path: string;
  readonly node: FatDir;
  /** 0 for the FAT16 root, which lives outside the data area. */
  readonly firstCluster: number;
  readonly clusters: number;
  readonly parentCluster: number;
  readonly names: readonly DirName[];
}

export interface PlacedFile {
  readonly path: string;
  readonly node: FatFile;
  readonly firstCluster: number;
  readonly clusters: number;
}

export interface FatPlan {
  readonly geometry: FatGeometry;
  readonly options: FatOptions;
  readonly dirs: readonly PlacedDir[];
  readonly files: readonly PlacedFile[];
  /** Clusters 2..usedClusters+1 are allocated. */
  readonly usedClusters: number;
  readonly fileBytes: number;
}

function geometryFor(type: FatType, totalSectors: number, spc: number, rootEntries: number): FatGeometry | null {
  const rootDirSectors = Math.ceil((rootEntries * 32) / SECTOR);
  const entryBytes = type === 'fat16' ? 2 : 4;
  let reserved = type === 'fat16' ? 1 : 32;
  const fatSectors = Math.ceil(((Math.floor((totalSectors - reserved - rootDirSectors) / spc) + 2) * entryBytes) / SECTOR);
  const unaligned = reserved + 2 * fatSectors + rootDirSectors;
  reserved += (spc - (unaligned % spc)) % spc;
  const dataStartSector = reserved + 2 * fatSectors + rootDirSectors;
  if (dataStartSector >= totalSectors) return null;
  const clusterCount = Math.floor((totalSectors - dataStartSector) / spc);
  const valid = type === 'fat16' ? clusterCount >= FAT16_MIN_CLUSTERS && clusterCount <= FAT16_MAX_CLUSTERS : clusterCount > FAT16_MAX_CLUSTERS && clusterCount <= FAT32_MAX_CLUSTERS;
  return valid ? { type, totalSectors, sectorsPerCluster: spc, reservedSectors: reserved, fatSectors, rootEntries, dataStartSector, clusterCount } : null;
}

/** Picks a cluster size that makes a volume of `sizeBytes` a valid FAT16 or FAT32. */
export function chooseGeometry(sizeBytes: number, type: FatType = sizeBytes < 512 * MIB ? 'fat16' : 'fat32', rootEntries = 512): FatGeometry {
  const totalSectors = Math.floor(sizeBytes / SECTOR);
  const preferred = type === 'fat16' ? [4, 8, 16, 32, 64, 128, 2, 1] : sizeBytes <= 8 * 1024 * MIB ? [8, 4, 2, 1, 16, 32, 64] : [16, 32, 64, 8, 4, 2, 1];
  const entries = type === 'fat16' ? Math.ceil(rootEntries / 16) * 16 : 0;
  for (const spc of preferred) {
    const geometry = geometryFor(type, totalSectors, spc, entries);
    if (geometry) return geometry;
  }
  // With one-sector clusters a volume has about as many clusters as sectors: far below the
  // minimum it is too small, otherwise too large for the type (FAT16 ends near 4 GiB).
  const tooSmall = totalSectors < 2 * (type === 'fat16' ? FAT16_MIN_CLUSTERS : FAT16_MAX_CLUSTERS + 1);
  throw CardsmithError.keyed(tooSmall ? 'too-small' : 'bad-input', 'fat.noValidVolume', { size: sizeBytes, type: type.toUpperCase() }, { sizeBytes, type });
}

interface Walked {
  readonly dirs: { path: string; node: FatDir; names: DirName[]; entries: number }[];
  readonly files: { path: string; node: FatFile }[];
}

function walk(root: FatDir): Walked {
  const walked: Walked = { dirs: [], files: [] };
  const visit = (dir: FatDir, path: string, isRoot: boolean): void => {
    const seen = new Map<string, string>();
    for (const child of dir.children) {
      const childPath = path ? `${path}/${child.name}` : child.name;
      checkLongName(child.name, childPath);
      const key = foldName(child.name);
      const clash = seen.get(key);
      if (clash !== undefined) throw CardsmithError.keyed('bad-input', 'fat.caseClash', { path: childPath, other: clash }, { path: childPath });
      seen.set(key, childPath);
    }
    const names = assignNames(dir.children.map((c) => c.name));
    // The root holds the volume label entry; every other directory holds "." and "..".
    const entries = (isRoot ? 1 : 2) + names.reduce((sum, n) => sum + entryCount(n), 0);
    walked.dirs.push({ path, node: dir, names, entries });
    for (const child of dir.children) {
      const childPath = path ? `${path}/${child.name}` : child.name;
      if (child.kind === 'dir') visit(child, childPath, false);
      else walked.files.push({ path: childPath, node: child });
    }
  };
  visit(root, '', true);
  return walked;
}

/** Lays out `root` in a volume of `options.sizeBytes`; throws too-small with needed vs given. */
export function planFat(root: FatDir, options: FatOptions): FatPlan {
  const walked = walk(root);
  const rootEntries = Math.max(512, walked.dirs[0]!.entries);
  const geometry = chooseGeometry(options.sizeBytes, options.type, rootEntries);
  const clusterBytes = geometry.sectorsPerCluster * SECTOR;
  const clustersOf = (bytes: number): number => Math.ceil(bytes / clusterBytes);
  let next = 2;
  const dirCluster = new Map<FatDir, number>();
  const dirs: PlacedDir[] = [];
  for (const d of walked.dirs) {
    const inFixedRoot = d.path === '' && geometry.type === 'fat16';
    const clusters = inFixedRoot ? 0 : Math.max(1, clustersOf(d.entries * 32));
    dirCluster.set(d.node, inFixedRoot ? 0 : next);
    dirs.push({ path: d.path, node: d.node, firstCluster: inFixedRoot ? 0 : next, clusters, parentCluster: 0, names: d.names });
    next += clusters;
  }
  const parentOf = new Map<FatDir, FatDir>();
  for (const d of walked.dirs) for (const c of d.node.children) if (c.kind === 'dir') parentOf.set(c, d.node);
  const placedDirs = dirs.map((d) => {
    const parent = parentOf.get(d.node);
    // ".." of a directory in the root says cluster 0, also on FAT32 where the root has a cluster.
    return { ...d, parentCluster: parent && parent !== root ? dirCluster.get(parent)! : 0 };
  });
  const files: PlacedFile[] = [];
  let fileBytes = 0;
  for (const f of walked.files) {
    const clusters = clustersOf(f.node.size);
    files.push({ path: f.path, node: f.node, firstCluster: clusters === 0 ? 0 : next, clusters });
    next += clusters;
    fileBytes += f.node.size;
  }
  const usedClusters = next - 2;
  if (usedClusters > geometry.clusterCount) {
    const needed = geometry.dataStartSector * SECTOR + usedClusters * clusterBytes;
    throw CardsmithError.keyed('too-small', 'build.fatTooSmall', { needed, given: options.sizeBytes }, {
      neededBytes: needed,
      givenBytes: options.sizeBytes,
    });
  }
  return { geometry, options, dirs: placedDirs, files, usedClusters, fileBytes };
}

/**
 * The smallest size (a whole number of MiB, at least `minBytes`) whose FAT volume holds `root`
 * with `headroomBytes` to spare.
 */
export function fatSizeFor(root: FatDir, options: { minBytes: number; headroomBytes?: number; type?: FatType }): number {
  const headroom = options.headroomBytes ?? 0;
  const roundMiB = (n: number): number => Math.ceil(n / MIB) * MIB;
  let size = roundMiB(Math.max(options.minBytes, 4 * MIB));
  for (;;) {
    try {
      const plan = planFat(root, { sizeBytes: size, volumeId: 0, mtime: 0, ...(options.type ? { type: options.type } : {}) });
      const clusterBytes = plan.geometry.sectorsPerCluster * SECTOR;
      if ((plan.geometry.clusterCount - plan.usedClusters) * clusterBytes >= headroom) return size;
    } catch (error) {
      if (!(error instanceof CardsmithError) || error.info.cause !== 'too-small') throw error;
    }
    size = roundMiB(size + Math.max(MIB, size / 16));
  }
}
