/**
 * Reads files from a FAT12/16/32 filesystem inside a card file, the way a boot firmware does:
 * boot sector geometry (bytes per sector, sectors per cluster, reserved sectors, FAT count and
 * size, root entries), the FAT type from the cluster count (< 4085 FAT12, < 65525 FAT16, else
 * FAT32), directories as 32-byte entries with long names (attribute 0x0F, UTF-16 pieces in
 * reverse order) before their 8.3 entry, and files as cluster chains. Names match without case,
 * as on FAT. Read-only; the boot tests use it to play the Raspberry Pi firmware.
 */
import { closeSync, openSync, readSync } from 'node:fs';

interface Geometry {
  readonly fd: number;
  readonly base: number;
  readonly bytesPerSector: number;
  readonly clusterBytes: number;
  readonly fatOffset: number;
  readonly bits: 12 | 16 | 32;
  readonly rootDirOffset: number;
  readonly rootDirBytes: number;
  readonly rootCluster: number;
  readonly dataOffset: number;
}

interface DirEntry {
  readonly name: string;
  readonly isDir: boolean;
  readonly cluster: number;
  readonly size: number;
}

function read(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const got = readSync(fd, buffer, 0, length, position);
  if (got !== length) throw new Error(`FAT: short read of ${length} bytes at byte ${position}`);
  return buffer;
}

function geometry(fd: number, base: number): Geometry {
  const boot = read(fd, base, 512);
  const bytesPerSector = boot.readUInt16LE(11);
  const sectorsPerCluster = boot[13]!;
  const reserved = boot.readUInt16LE(14);
  const fats = boot[16]!;
  const rootEntries = boot.readUInt16LE(17);
  const totalSectors = boot.readUInt16LE(19) || boot.readUInt32LE(32);
  const fatSectors = boot.readUInt16LE(22) || boot.readUInt32LE(36);
  if (boot.readUInt16LE(510) !== 0xaa55 || ![512, 1024, 2048, 4096].includes(bytesPerSector) || sectorsPerCluster === 0) {
    throw new Error(`FAT: no FAT boot sector at byte ${base}`);
  }
  const rootDirSectors = Math.ceil((rootEntries * 32) / bytesPerSector);
  const dataSector = reserved + fats * fatSectors + rootDirSectors;
  const clusters = Math.floor((totalSectors - dataSector) / sectorsPerCluster);
  const bits = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32;
  return {
    fd,
    base,
    bytesPerSector,
    clusterBytes: bytesPerSector * sectorsPerCluster,
    fatOffset: base + reserved * bytesPerSector,
    bits,
    rootDirOffset: base + (reserved + fats * fatSectors) * bytesPerSector,
    rootDirBytes: rootDirSectors * bytesPerSector,
    rootCluster: bits === 32 ? boot.readUInt32LE(44) : 0,
    dataOffset: base + dataSector * bytesPerSector,
  };
}

function nextCluster(g: Geometry, cluster: number): number {
  switch (g.bits) {
    case 12: {
      const pair = read(g.fd, g.fatOffset + Math.floor(cluster * 1.5), 2).readUInt16LE(0);
      return cluster % 2 === 0 ? pair & 0xfff : pair >> 4;
    }
    case 16:
      return read(g.fd, g.fatOffset + cluster * 2, 2).readUInt16LE(0);
    case 32:
      return read(g.fd, g.fatOffset + cluster * 4, 4).readUInt32LE(0) & 0x0fffffff;
  }
}

function endOfChain(g: Geometry, cluster: number): boolean {
  return cluster < 2 || cluster >= { 12: 0xff8, 16: 0xfff8, 32: 0x0ffffff8 }[g.bits];
}

function readChain(g: Geometry, first: number, limit: number): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  for (let cluster = first; !endOfChain(g, cluster) && total < limit; cluster = nextCluster(g, cluster)) {
    parts.push(read(g.fd, g.dataOffset + (cluster - 2) * g.clusterBytes, g.clusterBytes));
    total += g.clusterBytes;
    if (parts.length > 1 << 22) throw new Error('FAT: cluster chain does not end');
  }
  return Buffer.concat(parts).subarray(0, Math.min(total, limit));
}

function shortName(entry: Buffer): string {
  const flags = entry[12]!;
  let base = entry.toString('latin1', 0, 8).trimEnd();
  let ext = entry.toString('latin1', 8, 11).trimEnd();
  if (flags & 0x08) base = base.toLowerCase();
  if (flags & 0x10) ext = ext.toLowerCase();
  return ext ? `${base}.${ext}` : base;
}

function longNamePiece(entry: Buffer): string {
  const units = Buffer.concat([entry.subarray(1, 11), entry.subarray(14, 26), entry.subarray(28, 32)]);
  let text = '';
  for (let i = 0; i < units.length; i += 2) {
    const unit = units.readUInt16LE(i);
    if (unit === 0 || unit === 0xffff) break;
    text += String.fromCharCode(unit);
  }
  return text;
}

function parseDirectory(bytes: Buffer): readonly DirEntry[] {
  const entries: DirEntry[] = [];
  let pieces: string[] = [];
  for (let offset = 0; offset + 32 <= bytes.length; offset += 32) {
    const entry = bytes.subarray(offset, offset + 32);
    if (entry[0] === 0x00) break;
    if (entry[0] === 0xe5) {
      pieces = [];
      continue;
    }
    const attributes = entry[11]!;
    if (attributes === 0x0f) {
      if (entry[0]! & 0x40) pieces = [];
      pieces.unshift(longNamePiece(entry));
      continue;
    }
    const name = pieces.length > 0 ? pieces.join('') : shortName(entry);
    pieces = [];
    if (attributes & 0x08) continue;
    entries.push({ name, isDir: (attributes & 0x10) !== 0, cluster: (entry.readUInt16LE(20) << 16) | entry.readUInt16LE(26), size: entry.readUInt32LE(28) });
  }
  return entries;
}

/** Names (lower case) of the files in the root folder of the FAT at `partitionOffset`. */
export function listFatRoot(image: string, partitionOffset: number): readonly string[] {
  const fd = openSync(image, 'r');
  try {
    const g = geometry(fd, partitionOffset);
    return rootListing(g).filter((entry) => !entry.isDir).map((entry) => entry.name.toLowerCase());
  } finally {
    closeSync(fd);
  }
}

function rootListing(g: Geometry): readonly DirEntry[] {
  return parseDirectory(g.bits === 32 ? readChain(g, g.rootCluster, Infinity) : read(g.fd, g.rootDirOffset, g.rootDirBytes));
}

/** The bytes of `path` ("a/b.txt" or "/a/b.txt") in the FAT filesystem starting at `partitionOffset`. */
export function readFatFile(image: string, partitionOffset: number, path: string): Buffer {
  const fd = openSync(image, 'r');
  try {
    const g = geometry(fd, partitionOffset);
    let listing = rootListing(g);
    const parts = path.split('/').filter((part) => part !== '');
    for (const [index, part] of parts.entries()) {
      const found = listing.find((entry) => entry.name.toLowerCase() === part.toLowerCase());
      const last = index === parts.length - 1;
      if (!found || found.isDir === last) throw new Error(`FAT at byte ${partitionOffset}: no ${last ? 'file' : 'folder'} ${parts.slice(0, index + 1).join('/')}`);
      if (last) return found.size === 0 ? Buffer.alloc(0) : readChain(g, found.cluster, found.size);
      listing = parseDirectory(readChain(g, found.cluster, Infinity));
    }
    throw new Error('FAT: empty path');
  } finally {
    closeSync(fd);
  }
}
