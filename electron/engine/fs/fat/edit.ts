/**
 * Adds or replaces files in an existing FAT12/16/32 volume, in place, as byte patches: nothing is
 * written here. New names get long-name entries and an 8.3 short name with a ~N tail unique in
 * the directory; missing directories are made (with "." and ".."); a full directory grows by a
 * cluster (the FAT12/16 root cannot); a replaced file keeps its entry and its old chain is freed.
 * Clusters come from the free ones, starting where FSInfo says (FAT32); every FAT copy gets the
 * same changed sectors, and FSInfo's free count and next-free hint are brought up to date. A
 * volume without room is refused, naming the bytes needed and free, before any patch exists.
 */
import type { ReadAt } from '../../disk/read-layout';
import { CardsmithError } from '../../errors';
import type { Patch } from '../../flash/patch';
import { assignNames, ATTR_ARCHIVE, ATTR_DIRECTORY, checkLongName, encodeLongName, entryCount, ENTRY_SIZE } from './names';
import { FatVolume, findEntry, parseDir, type LoadedDir } from './volume';
import { shortEntry } from './write';

export interface FatAddition {
  /** Slash-separated path from the volume's root, e.g. "firstrun.sh" or "cloud/user-data". */
  readonly path: string;
  readonly bytes: Uint8Array;
}

interface Tracked {
  readonly dir: LoadedDir;
  /** The directory's bytes as they were on the volume (empty for a directory made here). */
  readonly original: Uint8Array;
}

const DOT = Uint8Array.from('.          ', (c) => c.charCodeAt(0));
const DOTDOT = Uint8Array.from('..         ', (c) => c.charCodeAt(0));

function splitPath(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) throw CardsmithError.keyed('bad-input', 'fat.notPath', { path }, { path });
  parts.forEach((part, i) => checkLongName(part, parts.slice(0, i + 1).join('/')));
  return parts;
}

class Editor {
  private readonly originalFat: Uint8Array;
  private readonly dirs = new Map<string, Tracked>();
  private readonly data: Patch[] = [];
  private hint = 2;
  private lastAllocated = 0;

  constructor(
    private readonly vol: FatVolume,
    private readonly mtime: number,
    private readonly neededBytes: number,
  ) {
    this.originalFat = Uint8Array.from(vol.fat);
  }

  private noRoom(detail: string): never {
    const free = this.vol.freeClusters() * this.vol.clusterBytes;
    throw CardsmithError.keyed('too-small', 'fat.noRoomFor', { offset: this.vol.offset, detail, needed: this.neededBytes, free }, {
      offset: this.vol.offset,
      neededBytes: this.neededBytes,
      freeBytes: free,
    });
  }

  /** Takes `count` free clusters and chains them; returns them in order. */
  private allocate(count: number, what: string): number[] {
    const total = this.vol.bpb.clusterCount;
    const got: number[] = [];
    for (let scanned = 0; got.length < count && scanned < total; scanned++) {
      const c = 2 + ((this.hint - 2 + scanned) % total);
      if (this.vol.get(c) === 0) {
        got.push(c);
        this.vol.set(c, this.vol.eoc);
      }
    }
    if (got.length < count) this.noRoom(`"${what}" needs ${count} clusters`);
    got.forEach((c, i) => this.vol.set(c, i + 1 < got.length ? got[i + 1]! : this.vol.eoc));
    this.lastAllocated = got[got.length - 1]!;
    this.hint = this.lastAllocated + 1 > total + 1 ? 2 : this.lastAllocated + 1;
    return got;
  }

  setHint(hint: number): void {
    if (hint >= 2 && hint < this.vol.bpb.clusterCount + 2) this.hint = hint;
  }

  private async track(dir: LoadedDir): Promise<Tracked> {
    const key = dir.path.toUpperCase();
    const known = this.dirs.get(key);
    if (known) return known;
    const tracked = { dir, original: Uint8Array.from(dir.bytes) };
    this.dirs.set(key, tracked);
    return tracked;
  }

  /** The directory at `parts`, made (with its parents) when missing. */
  async dirAt(parts: readonly string[]): Promise<Tracked> {
    let current = await this.track(await this.vol.loadRoot());
    for (const [i, part] of parts.entries()) {
      const path = parts.slice(0, i + 1).join('/');
      const known = this.dirs.get(path.toUpperCase());
      if (known) {
        current = known;
        continue;
      }
      const entry = findEntry(current.dir, part);
      if (entry && !entry.isDir) throw CardsmithError.keyed('bad-input', 'fat.fileNotDir', { path }, { path });
      if (entry) {
        current = await this.track(await this.vol.loadDir(path, entry.firstCluster));
        continue;
      }
      const [cluster] = this.allocate(1, path);
      const bytes = new Uint8Array(this.vol.clusterBytes);
      shortEntry(bytes, 0, DOT, ATTR_DIRECTORY, this.mtime, cluster!, 0);
      // ".." of a directory in the root says cluster 0, also on FAT32 where the root has a cluster.
      shortEntry(bytes, ENTRY_SIZE, DOTDOT, ATTR_DIRECTORY, this.mtime, current.dir.path === '' ? 0 : current.dir.firstCluster, 0);
      const made: LoadedDir = { path, firstCluster: cluster!, clusters: [cluster!], bytes, entries: [] };
      await this.addEntry(current, part, ATTR_DIRECTORY, cluster!, 0);
      const tracked = { dir: made, original: new Uint8Array(0) };
      this.dirs.set(path.toUpperCase(), tracked);
      current = tracked;
    }
    return current;
  }

  /** Index of the first run of `count` free slots; everything from the first 0x00 entry on is free. */
  private freeRun(bytes: Uint8Array, count: number): number {
    let run = 0;
    for (let at = 0; at + ENTRY_SIZE <= bytes.length; at += ENTRY_SIZE) {
      const first = bytes[at]!;
      if (first === 0x00) {
        return bytes.length - at >= (count - run) * ENTRY_SIZE ? at - run * ENTRY_SIZE : -1;
      }
      run = first === 0xe5 ? run + 1 : 0;
      if (run === count) return at - (count - 1) * ENTRY_SIZE;
    }
    return -1;
  }

  private async addEntry(target: Tracked, name: string, attr: number, cluster: number, size: number): Promise<void> {
    const dir = target.dir;
    const taken = new Set(parseDir(dir.bytes).map((e) => e.short));
    const [dirName] = assignNames([name], taken);
    const count = entryCount(dirName!);
    let at = this.freeRun(dir.bytes, count);
    while (at === -1) {
      if (dir.firstCluster === 0) {
        this.noRoom(`its root directory is full (${this.vol.bpb.rootEntries} entries) and cannot grow on ${this.vol.bpb.type.toUpperCase()}`);
      }
      const [grown] = this.allocate(1, `${dir.path || '/'} (directory)`);
      this.vol.set(dir.clusters[dir.clusters.length - 1]!, grown!);
      dir.clusters.push(grown!);
      const bytes = new Uint8Array(dir.bytes.length + this.vol.clusterBytes);
      bytes.set(dir.bytes);
      dir.bytes = bytes;
      at = this.freeRun(dir.bytes, count);
    }
    const endMarkerUsed = dir.bytes.subarray(at, at + count * ENTRY_SIZE).some((_, i) => i % ENTRY_SIZE === 0 && dir.bytes[at + i] === 0);
    dir.bytes.set(encodeLongName(dirName!), at);
    const shortAt = at + (count - 1) * ENTRY_SIZE;
    dir.bytes.fill(0, shortAt, shortAt + ENTRY_SIZE);
    shortEntry(dir.bytes, shortAt, dirName!.short, attr, this.mtime, cluster, size);
    // Entries placed over the end marker move it: the slot after them must read as the end.
    const after = shortAt + ENTRY_SIZE;
    if (endMarkerUsed && after < dir.bytes.length) dir.bytes[after] = 0;
    dir.entries.splice(0, dir.entries.length, ...parseDir(dir.bytes));
  }

  async put(addition: FatAddition): Promise<void> {
    const parts = splitPath(addition.path);
    const parent = await this.dirAt(parts.slice(0, -1));
    const name = parts[parts.length - 1]!;
    const existing = findEntry(parent.dir, name);
    if (existing?.isDir) throw CardsmithError.keyed('bad-input', 'fat.isDir', { path: addition.path }, { path: addition.path });
    if (existing && existing.firstCluster >= 2) for (const c of this.vol.chain(existing.firstCluster, addition.path)) this.vol.set(c, 0);
    const clusters = addition.bytes.length === 0 ? [] : this.allocate(Math.ceil(addition.bytes.length / this.vol.clusterBytes), addition.path);
    this.writeData(clusters, addition.bytes);
    const first = clusters[0] ?? 0;
    if (!existing) {
      await this.addEntry(parent, name, ATTR_ARCHIVE, first, addition.bytes.length);
      return;
    }
    const bytes = parent.dir.bytes;
    shortEntry(bytes, existing.shortSlot, bytes.slice(existing.shortSlot, existing.shortSlot + 11), bytes[existing.shortSlot + 11]!, this.mtime, first, addition.bytes.length);
    parent.dir.entries.splice(0, parent.dir.entries.length, ...parseDir(bytes));
  }

  private writeData(clusters: readonly number[], data: Uint8Array): void {
    const cb = this.vol.clusterBytes;
    for (let i = 0; i < clusters.length; ) {
      let run = 1;
      while (i + run < clusters.length && clusters[i + run] === clusters[i]! + run) run++;
      // Whole clusters: the slack after the file's end is zeroed rather than left as it was.
      const bytes = new Uint8Array(run * cb);
      bytes.set(data.subarray(i * cb, (i + run) * cb));
      this.data.push({ offset: this.vol.clusterOffset(clusters[i]!), bytes });
      i += run;
    }
  }

  /** Where byte `index` of a directory lives on the disk. */
  private dirOffset(dir: LoadedDir, index: number): number {
    if (dir.firstCluster === 0) return this.vol.offset + this.vol.bpb.firstRootSector * this.vol.bpb.bytesPerSector + index;
    const cb = this.vol.clusterBytes;
    return this.vol.clusterOffset(dir.clusters[Math.floor(index / cb)]!) + (index % cb);
  }

  async patches(): Promise<Patch[]> {
    const sector = this.vol.bpb.bytesPerSector;
    const out: Patch[] = [...this.data];
    for (const { dir, original } of this.dirs.values()) {
      for (let at = 0; at < dir.bytes.length; at += sector) {
        const now = dir.bytes.subarray(at, at + sector);
        const was = original.subarray(at, at + sector);
        if (was.length === now.length && now.every((b, i) => b === was[i])) continue;
        out.push({ offset: this.dirOffset(dir, at), bytes: Uint8Array.from(now) });
      }
    }
    const fat = this.vol.fat;
    for (let at = 0; at < fat.length; ) {
      const changed = (s: number): boolean => s < fat.length && fat.subarray(s, s + sector).some((b, i) => b !== this.originalFat[s + i]);
      if (!changed(at)) {
        at += sector;
        continue;
      }
      let end = at + sector;
      while (changed(end)) end += sector;
      for (let copy = 0; copy < this.vol.bpb.fatCount; copy++) {
        out.push({ offset: this.vol.fatOffset + copy * this.vol.bpb.fatSectors * sector + at, bytes: fat.slice(at, end) });
      }
      at = end;
    }
    if (this.vol.bpb.type === 'fat32') {
      const info = await this.fsInfo();
      if (info) out.push(info);
    }
    return out.sort((a, b) => a.offset - b.offset);
  }

  /** FSInfo's free count and next-free hint after the edit (a sector without its signatures is left alone). */
  async fsInfo(): Promise<Patch | null> {
    const b = this.vol.bpb;
    if (b.fsInfoSector === 0 || b.fsInfoSector === 0xffff || b.fsInfoSector >= b.reservedSectors) return null;
    const at = this.vol.offset + b.fsInfoSector * b.bytesPerSector;
    const sector = await this.vol.read(at, b.bytesPerSector);
    const v = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
    if (v.getUint32(0, true) !== 0x41615252 || v.getUint32(484, true) !== 0x61417272) return null;
    // The whole sector: every patch covers whole sectors, which the verifier reads back directly.
    const bytes = Uint8Array.from(sector);
    const out = new DataView(bytes.buffer);
    out.setUint32(488, this.vol.freeClusters(), true);
    if (this.lastAllocated !== 0) out.setUint32(492, this.lastAllocated, true);
    return { offset: at, bytes };
  }
}

/** Free space the additions need, in clusters, counting the directories that must be made. */
async function clustersNeeded(vol: FatVolume, additions: readonly FatAddition[]): Promise<{ needed: number; reclaimed: number }> {
  let needed = 0;
  let reclaimed = 0;
  const newDirs = new Set<string>();
  for (const a of additions) {
    const parts = splitPath(a.path);
    needed += Math.ceil(a.bytes.length / vol.clusterBytes);
    for (let i = 1; i < parts.length; i++) {
      const path = parts.slice(0, i).join('/').toUpperCase();
      if (!newDirs.has(path) && !(await vol.dir(path))) newDirs.add(path);
    }
    const parent = await vol.dir(parts.slice(0, -1).join('/'));
    const existing = parent && findEntry(parent, parts[parts.length - 1]!);
    if (existing && !existing.isDir && existing.firstCluster >= 2) reclaimed += vol.chain(existing.firstCluster, a.path).length;
  }
  return { needed: needed + newDirs.size, reclaimed };
}

/**
 * The patches that put `additions` into the FAT volume at byte `offset` of what `read` sees.
 * `mtime` (Unix seconds) stamps new and replaced entries.
 */
export async function editFat(read: ReadAt, offset: number, additions: readonly FatAddition[], mtime: number): Promise<Patch[]> {
  const vol = await FatVolume.open(read, offset);
  const seen = new Set<string>();
  for (const a of additions) {
    const key = splitPath(a.path).join('/').toUpperCase();
    if (seen.has(key)) throw CardsmithError.keyed('bad-input', 'fat.twice', { path: a.path }, { path: a.path });
    seen.add(key);
  }
  const { needed, reclaimed } = await clustersNeeded(vol, additions);
  const editor = new Editor(vol, mtime, needed * vol.clusterBytes);
  const free = vol.freeClusters();
  if (needed > free + reclaimed) {
    throw CardsmithError.keyed('too-small', 'fat.noRoom', { offset, needed: needed * vol.clusterBytes, free: (free + reclaimed) * vol.clusterBytes }, {
      offset,
      neededBytes: needed * vol.clusterBytes,
      freeBytes: (free + reclaimed) * vol.clusterBytes,
    });
  }
  if (vol.bpb.type === 'fat32') {
    const info = await read(offset + vol.bpb.fsInfoSector * vol.bpb.bytesPerSector, 512);
    if (info.length === 512) editor.setHint(new DataView(info.buffer, info.byteOffset).getUint32(492, true));
  }
  for (const a of additions) await editor.put(a);
  return editor.patches();
}
