/**
 * The MBR (DOS) partition table: sector 0 of the disk. Bytes 0..439 are boot code (some boards'
 * loaders live there, which is why a builder may write only the table part, 440..511), 440..443
 * the disk signature Linux turns into PARTUUIDs (`<signature>-<index>`), then four 16-byte primary
 * entries at 446 and the 0x55AA mark at 510. Each entry: status (0x80 = bootable), CHS start, type,
 * CHS end, LBA start and sector count (both little-endian 32-bit). CHS values are kept only for old
 * BIOSes; they are computed the way fdisk/sfdisk do (255 heads, 63 sectors, capped at 1023/254/63).
 */
import { CardsmithError } from '../errors';

export const SECTOR = 512;
export const MBR_SIGNATURE_OFFSET = 440;
export const MBR_ENTRIES_OFFSET = 446;
export const MBR_PROTECTIVE_TYPE = 0xee;
/** Types whose partition is a container of logical partitions (an EBR chain). */
export const MBR_EXTENDED_TYPES: ReadonlySet<number> = new Set([0x05, 0x0f, 0x85]);

export interface MbrEntry {
  /** 1..4 for primaries, 5.. for logicals. */
  readonly index: number;
  readonly bootable: boolean;
  readonly type: number;
  readonly startLba: number;
  readonly sectors: number;
}

export interface MbrTable {
  readonly diskSignature: number;
  /** Non-empty primary entries (type != 0), in slot order. */
  readonly entries: readonly MbrEntry[];
}

const HEADS = 255;
const SECTORS_PER_TRACK = 63;

/** The three CHS bytes for an LBA, as fdisk writes them. */
function chs(lba: number): [number, number, number] {
  const cylinder = Math.floor(lba / (HEADS * SECTORS_PER_TRACK));
  if (cylinder > 1023) return [HEADS - 1, SECTORS_PER_TRACK | (3 << 6), 0xff];
  const head = Math.floor(lba / SECTORS_PER_TRACK) % HEADS;
  const sector = (lba % SECTORS_PER_TRACK) + 1;
  return [head, sector | ((cylinder >> 2) & 0xc0), cylinder & 0xff];
}

function writeEntry(sector: Uint8Array, slot: number, entry: Omit<MbrEntry, 'index'>): void {
  const at = MBR_ENTRIES_OFFSET + slot * 16;
  const view = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  sector[at] = entry.bootable ? 0x80 : 0;
  sector.set(chs(entry.startLba), at + 1);
  sector[at + 4] = entry.type;
  sector.set(chs(entry.startLba + entry.sectors - 1), at + 5);
  view.setUint32(at + 8, entry.startLba, true);
  view.setUint32(at + 12, entry.sectors, true);
}

function checkEntry(entry: Omit<MbrEntry, 'index'>): void {
  if (entry.startLba < 1 || entry.sectors < 1 || entry.startLba + entry.sectors > 0x1_0000_0000) {
    throw CardsmithError.keyed('bad-input', 'mbr.range', {}, {
      startLba: entry.startLba,
      sectors: entry.sectors,
    });
  }
  if (entry.type < 1 || entry.type > 0xff) throw CardsmithError.keyed('bad-input', 'mbr.type', { type: entry.type });
}

/**
 * Builds sector 0 with up to four primary partitions (entries fill slots 1..n in order; the
 * boot-code area is zero). Write `sector.subarray(MBR_SIGNATURE_OFFSET)` at 440 to keep boot code.
 */
export function buildMbr(diskSignature: number, entries: readonly Omit<MbrEntry, 'index'>[]): Uint8Array {
  if (entries.length > 4) throw CardsmithError.keyed('bad-input', 'mbr.tooMany', { count: entries.length });
  const sector = new Uint8Array(SECTOR);
  const view = new DataView(sector.buffer);
  view.setUint32(MBR_SIGNATURE_OFFSET, diskSignature >>> 0, true);
  entries.forEach((entry, slot) => {
    checkEntry(entry);
    writeEntry(sector, slot, entry);
  });
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

/** The protective MBR in front of a GPT: one 0xEE entry covering the disk (capped at 2 TiB). */
export function buildProtectiveMbr(diskSectors: number): Uint8Array {
  const sector = new Uint8Array(SECTOR);
  const view = new DataView(sector.buffer);
  const at = MBR_ENTRIES_OFFSET;
  sector.set([0x00, 0x00, 0x02, 0x00, MBR_PROTECTIVE_TYPE, 0xff, 0xff, 0xff], at);
  view.setUint32(at + 8, 1, true);
  view.setUint32(at + 12, Math.min(diskSectors - 1, 0xffffffff), true);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

function hasBootSignature(sector: Uint8Array): boolean {
  return sector.length >= SECTOR && sector[510] === 0x55 && sector[511] === 0xaa;
}

/** Reads the four primary slots; empty slots (type 0) are left out. Index = slot + 1. */
export function parseMbr(sector: Uint8Array): MbrTable | null {
  if (!hasBootSignature(sector)) return null;
  const view = new DataView(sector.buffer, sector.byteOffset, SECTOR);
  const entries: MbrEntry[] = [];
  for (let slot = 0; slot < 4; slot++) {
    const entry = parseEntryAt(sector, view, MBR_ENTRIES_OFFSET + slot * 16, slot + 1);
    if (entry) entries.push(entry);
  }
  return { diskSignature: view.getUint32(MBR_SIGNATURE_OFFSET, true), entries };
}

/** Parses one 16-byte entry at `at`; null for an empty slot. LBAs are as stored (relative). */
export function parseEntryAt(sector: Uint8Array, view: DataView, at: number, index: number): MbrEntry | null {
  const type = sector[at + 4]!;
  const sectors = view.getUint32(at + 12, true);
  if (type === 0 || sectors === 0) return null;
  return { index, bootable: sector[at] === 0x80, type, startLba: view.getUint32(at + 8, true), sectors };
}

/** `0x0c`-style text for a type byte, as the Partition model stores MBR types. */
export function mbrTypeText(type: number): string {
  return `0x${type.toString(16).padStart(2, '0')}`;
}

/** Linux's PARTUUID for an MBR partition: `<signature as 8 hex digits>-<index as 2>`. */
export function mbrPartUuid(diskSignature: number, index: number): string {
  return `${(diskSignature >>> 0).toString(16).padStart(8, '0')}-${index.toString(16).padStart(2, '0')}`;
}
