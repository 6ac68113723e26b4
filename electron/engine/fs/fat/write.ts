/**
 * Writes a planned FAT volume (layout.ts) through a block sink at offset 0 of the partition:
 * the boot sector with its BIOS parameter block (and on FAT32 the FSInfo sector and the backup
 * boot sector at 6), both FAT copies in full (free entries must read as zero on the card, so the
 * whole table counts as metadata), the directories (whole clusters, zero-filled) and file data.
 */
import { CardsmithError } from '../../errors';
import type { BlockSink } from '../sink';
import { SECTOR, type FatPlan, type PlacedDir } from './layout';
import { ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_VOLUME_ID, encodeLongName, ENTRY_SIZE, fatDateTime } from './names';

const CHUNK = 1024 * 1024;

export interface FatWriteReport {
  readonly dataBytes: number;
  readonly metadataBytes: number;
  readonly freeBytes: number;
}

/** The label as the boot sector and label entry store it: 11 bytes, upper case, space padded. */
export function labelBytes(label: string | undefined): Uint8Array {
  const text = (label ?? 'NO NAME').toUpperCase();
  if (text.length > 11 || !/^[A-Z0-9 !#$%&'()\-@^_`{}~]*$/.test(text)) {
    throw CardsmithError.keyed('bad-input', 'fat.label', { label: label ?? '' });
  }
  return Uint8Array.from(text.padEnd(11, ' '), (c) => c.charCodeAt(0));
}

function bootSector(plan: FatPlan): Uint8Array {
  const g = plan.geometry;
  const s = new Uint8Array(SECTOR);
  const v = new DataView(s.buffer);
  const fat32 = g.type === 'fat32';
  s.set([0xeb, fat32 ? 0x58 : 0x3c, 0x90], 0);
  s.set(Uint8Array.from('CARDSMTH', (c) => c.charCodeAt(0)), 3);
  v.setUint16(11, SECTOR, true);
  s[13] = g.sectorsPerCluster;
  v.setUint16(14, g.reservedSectors, true);
  s[16] = 2;
  v.setUint16(17, g.rootEntries, true);
  v.setUint16(19, !fat32 && g.totalSectors < 0x10000 ? g.totalSectors : 0, true);
  s[21] = 0xf8;
  v.setUint16(22, fat32 ? 0 : g.fatSectors, true);
  v.setUint16(24, 63, true);
  v.setUint16(26, 255, true);
  v.setUint32(28, plan.options.hiddenSectors ?? 0, true);
  v.setUint32(32, !fat32 && g.totalSectors < 0x10000 ? 0 : g.totalSectors, true);
  // The extended BPB sits at 36 on FAT16 and after the FAT32 fields at 64.
  let ext = 36;
  if (fat32) {
    v.setUint32(36, g.fatSectors, true);
    v.setUint32(44, 2, true);
    v.setUint16(48, 1, true);
    v.setUint16(50, 6, true);
    ext = 64;
  }
  s[ext] = 0x80;
  s[ext + 2] = 0x29;
  v.setUint32(ext + 3, plan.options.volumeId >>> 0, true);
  s.set(labelBytes(plan.options.label), ext + 7);
  s.set(Uint8Array.from(fat32 ? 'FAT32   ' : 'FAT16   ', (c) => c.charCodeAt(0)), ext + 18);
  s[510] = 0x55;
  s[511] = 0xaa;
  return s;
}

function fsInfo(plan: FatPlan): Uint8Array {
  const s = new Uint8Array(SECTOR);
  const v = new DataView(s.buffer);
  v.setUint32(0, 0x41615252, true);
  v.setUint32(484, 0x61417272, true);
  v.setUint32(488, plan.geometry.clusterCount - plan.usedClusters, true);
  v.setUint32(492, plan.usedClusters + 2, true);
  v.setUint32(508, 0xaa550000, true);
  return s;
}

function fatTable(plan: FatPlan): Uint8Array {
  const g = plan.geometry;
  const table = new Uint8Array(g.fatSectors * SECTOR);
  const v = new DataView(table.buffer);
  const fat32 = g.type === 'fat32';
  const set = (cluster: number, value: number): void => (fat32 ? v.setUint32(cluster * 4, value, true) : v.setUint16(cluster * 2, value, true));
  const eoc = fat32 ? 0x0fffffff : 0xffff;
  set(0, fat32 ? 0x0ffffff8 : 0xfff8);
  set(1, eoc);
  const chain = (first: number, clusters: number): void => {
    for (let i = 0; i < clusters; i++) set(first + i, i === clusters - 1 ? eoc : first + i + 1);
  };
  for (const d of plan.dirs) if (d.clusters > 0) chain(d.firstCluster, d.clusters);
  for (const f of plan.files) if (f.clusters > 0) chain(f.firstCluster, f.clusters);
  return table;
}

/** Fills the 32-byte short entry at `at`: name, attributes, times (all from `mtime`), first cluster, size. */
export function shortEntry(out: Uint8Array, at: number, name: Uint8Array, attr: number, mtime: number, cluster: number, size: number): void {
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const { date, time } = fatDateTime(mtime);
  out.set(name, at);
  out[at + 11] = attr;
  v.setUint16(at + 14, time, true);
  v.setUint16(at + 16, date, true);
  v.setUint16(at + 18, date, true);
  v.setUint16(at + 20, cluster >>> 16, true);
  v.setUint16(at + 22, time, true);
  v.setUint16(at + 24, date, true);
  v.setUint16(at + 26, cluster & 0xffff, true);
  v.setUint32(at + 28, size, true);
}

function encodeDir(plan: FatPlan, dir: PlacedDir, bytes: number, clusterOf: ReadonlyMap<object, number>): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  if (dir.path === '') {
    shortEntry(out, 0, labelBytes(plan.options.label), ATTR_VOLUME_ID, plan.options.mtime, 0, 0);
  } else {
    shortEntry(out, 0, Uint8Array.from('.          ', (c) => c.charCodeAt(0)), ATTR_DIRECTORY, dir.node.mtime, dir.firstCluster, 0);
    shortEntry(out, ENTRY_SIZE, Uint8Array.from('..         ', (c) => c.charCodeAt(0)), ATTR_DIRECTORY, dir.node.mtime, dir.parentCluster, 0);
  }
  at = dir.path === '' ? ENTRY_SIZE : 2 * ENTRY_SIZE;
  dir.node.children.forEach((child, i) => {
    const name = dir.names[i]!;
    const lfn = encodeLongName(name);
    out.set(lfn, at);
    at += lfn.length;
    const isDir = child.kind === 'dir';
    shortEntry(out, at, name.short, isDir ? ATTR_DIRECTORY : ATTR_ARCHIVE, child.mtime, clusterOf.get(child) ?? 0, isDir ? 0 : child.size);
    at += ENTRY_SIZE;
  });
  return out;
}

/** Writes the whole volume; `onBytes` hears the running count of file bytes written. */
export async function writeFat(plan: FatPlan, sink: BlockSink, onBytes?: (done: number) => void): Promise<FatWriteReport> {
  const g = plan.geometry;
  const clusterBytes = g.sectorsPerCluster * SECTOR;
  const clusterOffset = (cluster: number): number => (g.dataStartSector + (cluster - 2) * g.sectorsPerCluster) * SECTOR;
  const reserved = new Uint8Array(g.reservedSectors * SECTOR);
  const boot = bootSector(plan);
  reserved.set(boot, 0);
  if (g.type === 'fat32') {
    const info = fsInfo(plan);
    reserved.set(info, SECTOR);
    reserved.set(boot, 6 * SECTOR);
    reserved.set(info, 7 * SECTOR);
  }
  await sink.write(0, reserved);
  const fat = fatTable(plan);
  await sink.write(g.reservedSectors * SECTOR, fat);
  await sink.write((g.reservedSectors + g.fatSectors) * SECTOR, fat);

  const clusterOf = new Map<object, number>();
  for (const d of plan.dirs) clusterOf.set(d.node, d.firstCluster);
  for (const f of plan.files) clusterOf.set(f.node, f.firstCluster);
  let dirBytes = 0;
  for (const d of plan.dirs) {
    if (d.clusters === 0) {
      await sink.write((g.reservedSectors + 2 * g.fatSectors) * SECTOR, encodeDir(plan, d, g.rootEntries * ENTRY_SIZE, clusterOf));
    } else {
      await sink.write(clusterOffset(d.firstCluster), encodeDir(plan, d, d.clusters * clusterBytes, clusterOf));
      dirBytes += d.clusters * clusterBytes;
    }
  }

  let written = 0;
  for (const f of plan.files) {
    let offset = 0;
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const flush = async (): Promise<void> => {
      if (pendingBytes === 0) return;
      const joined = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
      await sink.write(clusterOffset(f.firstCluster) + offset, joined);
      offset += pendingBytes;
      written += pendingBytes;
      onBytes?.(written);
      pending = [];
      pendingBytes = 0;
    };
    for await (const chunk of f.node.content()) {
      if (offset + pendingBytes + chunk.length > f.node.size) {
        throw CardsmithError.keyed('source-corrupt', 'fat.longer', { path: f.path, size: f.node.size }, { path: f.path, expected: f.node.size });
      }
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= CHUNK) await flush();
    }
    await flush();
    if (offset !== f.node.size) {
      throw CardsmithError.keyed('source-corrupt', 'fat.shorter', { path: f.path, got: offset, size: f.node.size }, { path: f.path, expected: f.node.size, got: offset });
    }
  }
  return {
    dataBytes: plan.fileBytes,
    metadataBytes: g.dataStartSector * SECTOR + dirBytes,
    freeBytes: (g.clusterCount - plan.usedClusters) * clusterBytes,
  };
}
