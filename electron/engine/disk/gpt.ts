/**
 * The GUID partition table. LBA 0 holds a protective MBR; LBA 1 the primary header, which points
 * at the partition entry array (normally LBA 2..33: 128 entries × 128 bytes). A copy of the array
 * and a backup header sit at the end of the disk (header in the last sector, array just before).
 * Each header carries a CRC-32 of itself (92 bytes, CRC field zeroed) and of the entry array.
 *
 * Some boards' boot ROMs read the loader from inside LBA 2..33 (Allwinner at 8 KiB, some at
 * 1 KiB), so the entry array can be relocated — the header's PartitionEntryLBA says where, the way
 * genimage's `gpt-location` does; the first usable LBA then follows the moved array.
 */
import { CardsmithError } from '../errors';
import { crc32 } from 'node:zlib';
import { guidFromBytes, guidToBytes } from './guid';
import { buildProtectiveMbr, SECTOR } from './mbr';

export const GPT_TYPES = {
  linuxFilesystem: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
  efiSystem: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  microsoftBasicData: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
  linuxRootArm64: 'B921B045-1DF0-41C3-AF44-4C6F280D3FAE',
  linuxRootArm32: '69DAD710-2CE4-4E3C-B16C-21A1D49ABED3',
} as const;

/** Attribute bit 2: "legacy BIOS bootable"; U-Boot's distro boot looks for it on GPT disks. */
export const GPT_ATTR_LEGACY_BOOTABLE = 1n << 2n;

const SIGNATURE = 'EFI PART';
const HEADER_SIZE = 92;
const REVISION = 0x00010000;
export const GPT_DEFAULT_ENTRIES = 128;
export const GPT_ENTRY_SIZE = 128;

export interface GptPartition {
  readonly typeGuid: string;
  readonly uniqueGuid: string;
  readonly firstLba: number;
  /** Inclusive, as GPT stores it. */
  readonly lastLba: number;
  readonly name: string;
  readonly attributes: bigint;
}

export interface GptHeader {
  readonly currentLba: number;
  readonly backupLba: number;
  readonly firstUsableLba: number;
  readonly lastUsableLba: number;
  readonly diskGuid: string;
  readonly entriesLba: number;
  readonly entryCount: number;
  readonly entrySize: number;
  readonly entriesCrc: number;
}

/** A partition to write; attributes default to none. */
export interface GptPartitionSpec extends Omit<GptPartition, 'attributes'> {
  readonly attributes?: bigint;
}

export interface GptBuildOptions {
  readonly diskSectors: number;
  readonly diskGuid: string;
  readonly partitions: readonly GptPartitionSpec[];
  /** Where the primary entry array starts (default 2). */
  readonly entriesLba?: number;
  readonly entryCount?: number;
  /** Raise the first usable LBA (sfdisk uses 2048); never below the end of the entry array. */
  readonly firstUsableLba?: number;
}

/** One piece of the table to write; `what` names it for overlap messages. */
export interface TableWrite {
  readonly what: 'protective-mbr' | 'gpt-primary-header' | 'gpt-primary-entries' | 'gpt-backup-entries' | 'gpt-backup-header';
  readonly offset: number;
  readonly bytes: Uint8Array;
}

export interface GptBuilt {
  readonly writes: readonly TableWrite[];
  readonly primary: GptHeader;
  readonly backup: GptHeader;
}

export function entryArraySectors(entryCount: number, entrySize = GPT_ENTRY_SIZE): number {
  return Math.ceil((entryCount * entrySize) / SECTOR);
}

/** The usable LBA range a GPT with these options leaves for partitions (inclusive). */
export function gptUsableRange(diskSectors: number, entriesLba = 2, entryCount = GPT_DEFAULT_ENTRIES, firstUsableLba = 0): { first: number; last: number } {
  const arraySectors = entryArraySectors(entryCount);
  return { first: Math.max(2 + arraySectors, entriesLba + arraySectors, firstUsableLba), last: diskSectors - 2 - arraySectors };
}

function encodeEntries(partitions: readonly GptPartitionSpec[], entryCount: number): Uint8Array {
  const array = new Uint8Array(entryCount * GPT_ENTRY_SIZE);
  const view = new DataView(array.buffer);
  partitions.forEach((p, i) => {
    const at = i * GPT_ENTRY_SIZE;
    array.set(guidToBytes(p.typeGuid), at);
    array.set(guidToBytes(p.uniqueGuid), at + 16);
    view.setBigUint64(at + 32, BigInt(p.firstLba), true);
    view.setBigUint64(at + 40, BigInt(p.lastLba), true);
    view.setBigUint64(at + 48, p.attributes ?? 0n, true);
    if (p.name.length > 36) throw CardsmithError.keyed('bad-input', 'gpt.longName', { name: p.name });
    for (let c = 0; c < p.name.length; c++) view.setUint16(at + 56 + c * 2, p.name.charCodeAt(c), true);
  });
  return array;
}

function encodeHeader(h: GptHeader): Uint8Array {
  const sector = new Uint8Array(SECTOR);
  const view = new DataView(sector.buffer);
  for (let i = 0; i < 8; i++) sector[i] = SIGNATURE.charCodeAt(i);
  view.setUint32(8, REVISION, true);
  view.setUint32(12, HEADER_SIZE, true);
  view.setBigUint64(24, BigInt(h.currentLba), true);
  view.setBigUint64(32, BigInt(h.backupLba), true);
  view.setBigUint64(40, BigInt(h.firstUsableLba), true);
  view.setBigUint64(48, BigInt(h.lastUsableLba), true);
  sector.set(guidToBytes(h.diskGuid), 56);
  view.setBigUint64(72, BigInt(h.entriesLba), true);
  view.setUint32(80, h.entryCount, true);
  view.setUint32(84, h.entrySize, true);
  view.setUint32(88, h.entriesCrc, true);
  view.setUint32(16, crc32(sector.subarray(0, HEADER_SIZE)), true);
  return sector;
}

/** Builds every sector of a GPT (protective MBR included) for a disk of `diskSectors`. */
export function buildGpt(options: GptBuildOptions): GptBuilt {
  const entryCount = options.entryCount ?? GPT_DEFAULT_ENTRIES;
  const entriesLba = options.entriesLba ?? 2;
  const arraySectors = entryArraySectors(entryCount);
  if (entriesLba < 2) throw CardsmithError.keyed('bad-input', 'gpt.entriesAt', { lba: entriesLba });
  if (options.partitions.length > entryCount) {
    throw CardsmithError.keyed('bad-input', 'gpt.tooMany', { count: options.partitions.length, entries: entryCount });
  }
  const usable = gptUsableRange(options.diskSectors, entriesLba, entryCount, options.firstUsableLba);
  const sorted = [...options.partitions].sort((a, b) => a.firstLba - b.firstLba);
  sorted.forEach((p, i) => {
    if (p.firstLba < usable.first || p.lastLba > usable.last || p.lastLba < p.firstLba) {
      throw CardsmithError.keyed('overlap', 'gpt.outside', { name: p.name, first: p.firstLba, last: p.lastLba, usableFirst: usable.first, usableLast: usable.last }, {
        firstLba: p.firstLba,
        lastLba: p.lastLba,
        ...usable,
      });
    }
    const next = sorted[i + 1];
    if (next && next.firstLba <= p.lastLba) {
      throw CardsmithError.keyed('overlap', 'gpt.overlap', { name: p.name, other: next.name, lba: next.firstLba });
    }
  });
  const entries = encodeEntries(options.partitions, entryCount);
  const entriesCrc = crc32(entries);
  const lastLba = options.diskSectors - 1;
  const backupEntriesLba = lastLba - arraySectors;
  const common = { firstUsableLba: usable.first, lastUsableLba: usable.last, diskGuid: options.diskGuid, entryCount, entrySize: GPT_ENTRY_SIZE, entriesCrc };
  const primary: GptHeader = { ...common, currentLba: 1, backupLba: lastLba, entriesLba };
  const backup: GptHeader = { ...common, currentLba: lastLba, backupLba: 1, entriesLba: backupEntriesLba };
  return {
    primary,
    backup,
    writes: [
      { what: 'protective-mbr', offset: 0, bytes: buildProtectiveMbr(options.diskSectors) },
      { what: 'gpt-primary-header', offset: SECTOR, bytes: encodeHeader(primary) },
      { what: 'gpt-primary-entries', offset: entriesLba * SECTOR, bytes: entries },
      { what: 'gpt-backup-entries', offset: backupEntriesLba * SECTOR, bytes: entries },
      { what: 'gpt-backup-header', offset: lastLba * SECTOR, bytes: encodeHeader(backup) },
    ],
  };
}

export type HeaderCheck = { readonly ok: true; readonly header: GptHeader } | { readonly ok: false; readonly problem: string };

/** Parses and checks the header sector read from `expectedLba`. */
export function parseGptHeader(sector: Uint8Array, expectedLba: number): HeaderCheck {
  const view = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  const signature = String.fromCharCode(...sector.subarray(0, 8));
  if (signature !== SIGNATURE) return { ok: false, problem: `no GPT signature at LBA ${expectedLba}` };
  const headerSize = view.getUint32(12, true);
  if (headerSize < HEADER_SIZE || headerSize > sector.length) return { ok: false, problem: `GPT header at LBA ${expectedLba} has size ${headerSize}` };
  const copy = new Uint8Array(sector.subarray(0, headerSize));
  new DataView(copy.buffer).setUint32(16, 0, true);
  if (crc32(copy) !== view.getUint32(16, true)) return { ok: false, problem: `GPT header at LBA ${expectedLba} fails its CRC` };
  const header: GptHeader = {
    currentLba: Number(view.getBigUint64(24, true)),
    backupLba: Number(view.getBigUint64(32, true)),
    firstUsableLba: Number(view.getBigUint64(40, true)),
    lastUsableLba: Number(view.getBigUint64(48, true)),
    diskGuid: guidFromBytes(sector.subarray(56, 72)),
    entriesLba: Number(view.getBigUint64(72, true)),
    entryCount: view.getUint32(80, true),
    entrySize: view.getUint32(84, true),
    entriesCrc: view.getUint32(88, true),
  };
  if (header.currentLba !== expectedLba) return { ok: false, problem: `GPT header at LBA ${expectedLba} says it is at LBA ${header.currentLba}` };
  if (header.entrySize < GPT_ENTRY_SIZE || header.entrySize % 8 !== 0 || header.entryCount > 65536) {
    return { ok: false, problem: `GPT header at LBA ${expectedLba} has an implausible entry array (${header.entryCount} × ${header.entrySize})` };
  }
  return { ok: true, header };
}

/** Used (non-zero type) entries of an entry array; index = slot + 1, as Linux numbers them. */
export function parseGptEntries(array: Uint8Array, header: GptHeader): { entries: (GptPartition & { index: number })[]; crcOk: boolean } {
  const view = new DataView(array.buffer, array.byteOffset, array.byteLength);
  const entries: (GptPartition & { index: number })[] = [];
  for (let i = 0; i < header.entryCount; i++) {
    const at = i * header.entrySize;
    const type = array.subarray(at, at + 16);
    if (type.every((b) => b === 0)) continue;
    let name = '';
    for (let c = 0; c < 36; c++) {
      const code = view.getUint16(at + 56 + c * 2, true);
      if (code === 0) break;
      name += String.fromCharCode(code);
    }
    entries.push({
      index: i + 1,
      typeGuid: guidFromBytes(type),
      uniqueGuid: guidFromBytes(array.subarray(at + 16, at + 32)),
      firstLba: Number(view.getBigUint64(at + 32, true)),
      lastLba: Number(view.getBigUint64(at + 40, true)),
      attributes: view.getBigUint64(at + 48, true),
      name,
    });
  }
  const crcOk = crc32(array.subarray(0, header.entryCount * header.entrySize)) === header.entriesCrc;
  return { entries, crcOk };
}
