/**
 * Reading an existing FAT12/16/32 volume through random access: the boot sector's parameter
 * block, the first FAT copy (held in memory, edited there by edit.ts), directories with their long
 * names, and file contents. The FAT type follows from the cluster count alone (below 4085 FAT12,
 * below 65525 FAT16, else FAT32), never from the type string in the boot sector.
 */
import type { ReadAt } from '../../disk/read-layout';
import { CardsmithError } from '../../errors';
import { ATTR_DIRECTORY, ATTR_VOLUME_ID, ENTRY_SIZE, shortNameChecksum } from './names';

export type ExistingFatType = 'fat12' | 'fat16' | 'fat32';
const ATTR_LONG_NAME = 0x0f;

export interface FatBpb {
  readonly type: ExistingFatType;
  readonly bytesPerSector: number;
  readonly sectorsPerCluster: number;
  readonly reservedSectors: number;
  readonly fatCount: number;
  readonly fatSectors: number;
  readonly rootEntries: number;
  readonly totalSectors: number;
  readonly rootCluster: number;
  readonly fsInfoSector: number;
  readonly firstRootSector: number;
  readonly dataStartSector: number;
  readonly clusterCount: number;
}

/** One name in a directory: where its entries sit (LFN run and short entry) in the directory's bytes. */
export interface DirEntry {
  readonly name: string;
  /** The 11-byte short name as text. */
  readonly short: string;
  readonly isDir: boolean;
  readonly firstCluster: number;
  readonly size: number;
  /** Byte index of the first entry (an LFN entry, or the short entry) in the directory. */
  readonly firstSlot: number;
  /** Byte index of the short entry. */
  readonly shortSlot: number;
}

/** A directory's bytes in memory and where each of its bytes lives on the volume. */
export interface LoadedDir {
  readonly path: string;
  /** 0 for the FAT12/16 fixed root. */
  readonly firstCluster: number;
  readonly clusters: number[];
  bytes: Uint8Array;
  readonly entries: DirEntry[];
}

export function parseBpb(sector: Uint8Array, at: number): FatBpb {
  const v = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  const bad = (what: string): never => {
    throw CardsmithError.keyed('bad-input', 'fat.noVolume', { offset: at, reason: what }, { offset: at });
  };
  if (sector.length < 512 || v.getUint16(510, true) !== 0xaa55) bad('no boot sector signature');
  const bytesPerSector = v.getUint16(11, true);
  const sectorsPerCluster = sector[13]!;
  const reservedSectors = v.getUint16(14, true);
  const fatCount = sector[16]!;
  const rootEntries = v.getUint16(17, true);
  const totalSectors = v.getUint16(19, true) || v.getUint32(32, true);
  const fatSectors = v.getUint16(22, true) || v.getUint32(36, true);
  if (![512, 1024, 2048, 4096].includes(bytesPerSector)) bad(`${bytesPerSector} bytes per sector`);
  if (sectorsPerCluster === 0 || (sectorsPerCluster & (sectorsPerCluster - 1)) !== 0) bad(`${sectorsPerCluster} sectors per cluster`);
  if (reservedSectors === 0 || fatCount === 0 || fatSectors === 0 || totalSectors === 0) bad('an empty field in the BIOS parameter block');
  const rootDirSectors = Math.ceil((rootEntries * ENTRY_SIZE) / bytesPerSector);
  const firstRootSector = reservedSectors + fatCount * fatSectors;
  const dataStartSector = firstRootSector + rootDirSectors;
  if (dataStartSector >= totalSectors) bad('the FATs fill the whole volume');
  const clusterCount = Math.floor((totalSectors - dataStartSector) / sectorsPerCluster);
  const type: ExistingFatType = clusterCount < 4085 ? 'fat12' : clusterCount < 65525 ? 'fat16' : 'fat32';
  const entryBits = type === 'fat12' ? 12 : type === 'fat16' ? 16 : 32;
  if (fatSectors * bytesPerSector * 8 < (clusterCount + 2) * entryBits) bad(`its FAT is too small for ${clusterCount} clusters`);
  if (type !== 'fat32' && rootEntries === 0) bad('a FAT12/16 volume without root directory entries');
  return {
    type,
    bytesPerSector,
    sectorsPerCluster,
    reservedSectors,
    fatCount,
    fatSectors,
    rootEntries,
    totalSectors,
    rootCluster: type === 'fat32' ? v.getUint32(44, true) : 0,
    fsInfoSector: type === 'fat32' ? v.getUint16(48, true) : 0,
    firstRootSector,
    dataStartSector,
    clusterCount,
  };
}

function shortText(bytes: Uint8Array, at: number): string {
  const chars = Array.from(bytes.subarray(at, at + 11), (b) => String.fromCharCode(b));
  if (chars[0] === '\x05') chars[0] = '\xe5';
  return chars.join('');
}

/** "README  TXT" → "README.TXT", with the NT lower-case flags applied. */
function displayShort(short: string, flags: number): string {
  let base = short.slice(0, 8).trimEnd();
  let ext = short.slice(8).trimEnd();
  if (flags & 0x08) base = base.toLowerCase();
  if (flags & 0x10) ext = ext.toLowerCase();
  return ext ? `${base}.${ext}` : base;
}

/** The live entries of a directory's bytes, long names joined to their short entries. */
export function parseDir(bytes: Uint8Array): DirEntry[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: DirEntry[] = [];
  let lfn: { parts: string[]; checksum: number; start: number; expect: number } | null = null;
  for (let at = 0; at + ENTRY_SIZE <= bytes.length; at += ENTRY_SIZE) {
    const first = bytes[at]!;
    if (first === 0x00) break;
    const attr = bytes[at + 11]!;
    if (first === 0xe5) {
      lfn = null;
      continue;
    }
    if ((attr & 0x3f) === ATTR_LONG_NAME) {
      const seq = first & 0x1f;
      if (first & 0x40) lfn = { parts: [], checksum: bytes[at + 13]!, start: at, expect: seq };
      if (!lfn || seq !== lfn.expect || bytes[at + 13] !== lfn.checksum) {
        lfn = null;
        continue;
      }
      const units: number[] = [];
      for (const slot of [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30]) units.push(v.getUint16(at + slot, true));
      const end = units.indexOf(0);
      lfn.parts.unshift(String.fromCharCode(...(end === -1 ? units : units.slice(0, end))));
      lfn.expect = seq - 1;
      continue;
    }
    const short = shortText(bytes, at);
    if (attr & ATTR_VOLUME_ID || short.startsWith('. ') || short.startsWith('.. ')) {
      lfn = null;
      continue;
    }
    const longOk = lfn !== null && lfn.expect === 0 && lfn.checksum === shortNameChecksum(bytes.subarray(at, at + 11));
    entries.push({
      name: longOk ? lfn!.parts.join('') : displayShort(short, bytes[at + 12]!),
      short,
      isDir: (attr & ATTR_DIRECTORY) !== 0,
      firstCluster: (v.getUint16(at + 20, true) << 16) | v.getUint16(at + 26, true),
      size: v.getUint32(at + 28, true),
      firstSlot: longOk ? lfn!.start : at,
      shortSlot: at,
    });
    lfn = null;
  }
  return entries;
}

/** An open FAT volume: `offset` is the partition's byte offset on the disk `read` sees. */
export class FatVolume {
  private constructor(
    readonly read: ReadAt,
    readonly offset: number,
    readonly bpb: FatBpb,
    /** The first FAT copy, edited in memory by edit.ts. */
    readonly fat: Uint8Array,
  ) {}

  static async open(read: ReadAt, offset: number): Promise<FatVolume> {
    const boot = await read(offset, 512);
    const bpb = parseBpb(boot, offset);
    const fatBytes = bpb.fatSectors * bpb.bytesPerSector;
    const fat = await read(offset + bpb.reservedSectors * bpb.bytesPerSector, fatBytes);
    if (fat.length !== fatBytes) throw CardsmithError.keyed('source-corrupt', 'fat.cutShort', { offset }, { offset });
    return new FatVolume(read, offset, bpb, fat);
  }

  get clusterBytes(): number {
    return this.bpb.sectorsPerCluster * this.bpb.bytesPerSector;
  }

  get fatOffset(): number {
    return this.offset + this.bpb.reservedSectors * this.bpb.bytesPerSector;
  }

  clusterOffset(cluster: number): number {
    return this.offset + (this.bpb.dataStartSector + (cluster - 2) * this.bpb.sectorsPerCluster) * this.bpb.bytesPerSector;
  }

  /** End-of-chain marker as this FAT type writes it. */
  get eoc(): number {
    return this.bpb.type === 'fat12' ? 0xfff : this.bpb.type === 'fat16' ? 0xffff : 0x0fffffff;
  }

  /** Byte range [start, end) in the FAT that holds `cluster`'s entry. */
  entrySpan(cluster: number): [number, number] {
    if (this.bpb.type === 'fat12') {
      const at = Math.floor((cluster * 3) / 2);
      return [at, at + 2];
    }
    const size = this.bpb.type === 'fat16' ? 2 : 4;
    return [cluster * size, cluster * size + size];
  }

  get(cluster: number): number {
    const [at] = this.entrySpan(cluster);
    const f = this.fat;
    if (this.bpb.type === 'fat12') {
      const pair = f[at]! | (f[at + 1]! << 8);
      return cluster & 1 ? pair >> 4 : pair & 0xfff;
    }
    if (this.bpb.type === 'fat16') return f[at]! | (f[at + 1]! << 8);
    return (f[at]! | (f[at + 1]! << 8) | (f[at + 2]! << 16) | (f[at + 3]! << 24)) & 0x0fffffff;
  }

  set(cluster: number, value: number): void {
    const [at] = this.entrySpan(cluster);
    const f = this.fat;
    if (this.bpb.type === 'fat12') {
      if (cluster & 1) {
        f[at] = (f[at]! & 0x0f) | ((value << 4) & 0xf0);
        f[at + 1] = (value >> 4) & 0xff;
      } else {
        f[at] = value & 0xff;
        f[at + 1] = (f[at + 1]! & 0xf0) | ((value >> 8) & 0x0f);
      }
    } else if (this.bpb.type === 'fat16') {
      f[at] = value & 0xff;
      f[at + 1] = (value >> 8) & 0xff;
    } else {
      // The top four bits of a FAT32 entry are reserved and kept as they are.
      const kept = f[at + 3]! & 0xf0;
      f[at] = value & 0xff;
      f[at + 1] = (value >> 8) & 0xff;
      f[at + 2] = (value >> 16) & 0xff;
      f[at + 3] = kept | ((value >> 24) & 0x0f);
    }
  }

  isEnd(value: number): boolean {
    return value >= (this.bpb.type === 'fat12' ? 0xff8 : this.bpb.type === 'fat16' ? 0xfff8 : 0x0ffffff8);
  }

  /** The clusters of a chain; a loop, a free or out-of-range link is a damaged volume. */
  chain(first: number, what: string): number[] {
    const out: number[] = [];
    let cluster = first;
    while (true) {
      if (cluster < 2 || cluster >= this.bpb.clusterCount + 2 || out.length > this.bpb.clusterCount) {
        throw CardsmithError.keyed('source-corrupt', 'fat.brokenChain', { path: what, offset: this.offset, cluster }, {
          offset: this.offset,
          path: what,
          cluster,
        });
      }
      out.push(cluster);
      const next = this.get(cluster);
      if (this.isEnd(next)) return out;
      cluster = next;
    }
  }

  freeClusters(): number {
    let free = 0;
    for (let c = 2; c < this.bpb.clusterCount + 2; c++) if (this.get(c) === 0) free++;
    return free;
  }

  async readClusters(clusters: readonly number[]): Promise<Uint8Array> {
    const out = new Uint8Array(clusters.length * this.clusterBytes);
    for (let i = 0; i < clusters.length; ) {
      let run = 1;
      while (i + run < clusters.length && clusters[i + run] === clusters[i]! + run) run++;
      out.set(await this.read(this.clusterOffset(clusters[i]!), run * this.clusterBytes), i * this.clusterBytes);
      i += run;
    }
    return out;
  }

  async loadRoot(): Promise<LoadedDir> {
    const b = this.bpb;
    if (b.type === 'fat32') return this.loadDir('', b.rootCluster);
    const bytes = await this.read(this.offset + b.firstRootSector * b.bytesPerSector, b.rootEntries * ENTRY_SIZE);
    return { path: '', firstCluster: 0, clusters: [], bytes, entries: parseDir(bytes) };
  }

  async loadDir(path: string, firstCluster: number): Promise<LoadedDir> {
    const clusters = this.chain(firstCluster, path || '/');
    const bytes = await this.readClusters(clusters);
    return { path, firstCluster, clusters, bytes, entries: parseDir(bytes) };
  }

  /** The directory at `path` ("" for the root), or null when some part is missing. */
  async dir(path: string): Promise<LoadedDir | null> {
    let dir = await this.loadRoot();
    for (const part of path.split('/').filter(Boolean)) {
      const entry = findEntry(dir, part);
      if (!entry || !entry.isDir) return null;
      dir = await this.loadDir(dir.path ? `${dir.path}/${entry.name}` : entry.name, entry.firstCluster);
    }
    return dir;
  }

  /** A file's bytes, or null when there is no such file. */
  async readFile(path: string): Promise<Uint8Array | null> {
    const parts = path.split('/').filter(Boolean);
    const dir = await this.dir(parts.slice(0, -1).join('/'));
    const entry = dir && findEntry(dir, parts[parts.length - 1] ?? '');
    if (!entry || entry.isDir) return null;
    if (entry.size === 0) return new Uint8Array(0);
    const data = await this.readClusters(this.chain(entry.firstCluster, path));
    if (data.length < entry.size) throw CardsmithError.keyed('source-corrupt', 'fat.fileShort', { path, offset: this.offset }, { path, offset: this.offset });
    return data.subarray(0, entry.size);
  }
}

/** The entry named `name` (long or short name, ignoring case, as FAT compares). */
export function findEntry(dir: LoadedDir, name: string): DirEntry | undefined {
  const key = name.toUpperCase();
  return dir.entries.find((e) => e.name.toUpperCase() === key || displayShort(e.short, 0) === key);
}
