/**
 * Reads the partition table of an image or card into a DiskLayout.
 *
 * Interface: `readDiskLayout(read, sizeBytes)` takes a reader `read(offset, length)` that returns
 * the bytes at a byte offset (short only at the end of the device) and the device size; it reads
 * sector 0, then for a protective MBR (type 0xEE) the GPT primary header at LBA 1 (falling back to
 * the backup header in the last sector when the primary fails its CRC) and the entry array wherever
 * the header points (it may be relocated). The result (disk/model.ts DiskLayout) has the table kind
 * ('mbr' | 'gpt' | 'none'), partitions in byte offsets (start, size) with Linux PARTUUIDs, the disk
 * id or GUID, `regions` — the byte ranges [start, end) the table itself occupies (MBR 440..512,
 * EBRs, both GPT headers and entry arrays) for placement/overlap planners — and `problems`. Sectors
 * are 512 bytes (SD cards and image files). Logical MBR partitions are followed through the EBR chain.
 */
import type { DiskLayout, Partition, TableRegion } from './model';
import { GPT_ATTR_LEGACY_BOOTABLE, parseGptEntries, parseGptHeader, type GptHeader } from './gpt';
import {
  MBR_ENTRIES_OFFSET,
  MBR_EXTENDED_TYPES,
  MBR_PROTECTIVE_TYPE,
  MBR_SIGNATURE_OFFSET,
  SECTOR,
  mbrPartUuid,
  mbrTypeText,
  parseEntryAt,
  parseMbr,
  type MbrEntry,
} from './mbr';

export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

const MAX_LOGICAL = 128;

export async function readDiskLayout(read: ReadAt, sizeBytes: number): Promise<DiskLayout> {
  const none: DiskLayout = { table: 'none', sizeBytes, partitions: [], regions: [], problems: [] };
  if (sizeBytes < SECTOR) return none;
  const mbr = parseMbr(await read(0, SECTOR));
  if (!mbr) return none;
  const problems: string[] = [];
  if (mbr.entries.some((e) => e.type === MBR_PROTECTIVE_TYPE)) {
    const gpt = await readGpt(read, sizeBytes);
    if (gpt) return gpt;
    problems.push('a protective MBR but no valid GPT header (primary or backup)');
  }
  const regions: TableRegion[] = [{ what: 'mbr', start: MBR_SIGNATURE_OFFSET, end: SECTOR }];
  const entries: MbrEntry[] = [...mbr.entries];
  const extended = mbr.entries.find((e) => MBR_EXTENDED_TYPES.has(e.type));
  if (extended) entries.push(...(await readLogicals(read, extended, regions, problems)));
  const partitions: Partition[] = entries.map((e) => ({
    index: e.index,
    start: e.startLba * SECTOR,
    size: e.sectors * SECTOR,
    type: mbrTypeText(e.type),
    bootable: e.bootable,
    uuid: mbrPartUuid(mbr.diskSignature, e.index),
  }));
  for (const p of partitions) {
    if (p.start + p.size > sizeBytes) problems.push(`partition ${p.index} ends at byte ${p.start + p.size}, past the end of the disk (${sizeBytes})`);
  }
  return { table: 'mbr', sizeBytes, diskId: `0x${mbr.diskSignature.toString(16).padStart(8, '0')}`, partitions, regions, problems };
}

/** Follows the EBR chain: each EBR holds one logical entry (relative to the EBR) and a link (relative to the extended start). */
async function readLogicals(read: ReadAt, extended: MbrEntry, regions: TableRegion[], problems: string[]): Promise<MbrEntry[]> {
  const logicals: MbrEntry[] = [];
  const seen = new Set<number>();
  let ebrLba = extended.startLba;
  while (logicals.length < MAX_LOGICAL && !seen.has(ebrLba)) {
    seen.add(ebrLba);
    const sector = await read(ebrLba * SECTOR, SECTOR);
    if (sector.length < SECTOR || sector[510] !== 0x55 || sector[511] !== 0xaa) {
      problems.push(`no valid EBR at LBA ${ebrLba}`);
      break;
    }
    regions.push({ what: 'ebr', start: ebrLba * SECTOR + MBR_ENTRIES_OFFSET, end: (ebrLba + 1) * SECTOR });
    const view = new DataView(sector.buffer, sector.byteOffset, SECTOR);
    const logical = parseEntryAt(sector, view, MBR_ENTRIES_OFFSET, 5 + logicals.length);
    if (logical) logicals.push({ ...logical, startLba: ebrLba + logical.startLba });
    const link = parseEntryAt(sector, view, MBR_ENTRIES_OFFSET + 16, 0);
    if (!link) break;
    ebrLba = extended.startLba + link.startLba;
  }
  return logicals;
}

async function readGpt(read: ReadAt, sizeBytes: number): Promise<DiskLayout | null> {
  const lastLba = Math.floor(sizeBytes / SECTOR) - 1;
  const problems: string[] = [];
  const primary = parseGptHeader(await read(SECTOR, SECTOR), 1);
  const backup = lastLba > 1 ? parseGptHeader(await read(lastLba * SECTOR, SECTOR), lastLba) : ({ ok: false, problem: 'disk too small for a backup GPT' } as const);
  if (!primary.ok) problems.push(primary.problem);
  if (!backup.ok) problems.push(`backup: ${backup.problem}`);
  const header: GptHeader | null = primary.ok ? primary.header : backup.ok ? backup.header : null;
  if (!header) return null;
  const arrayBytes = header.entryCount * header.entrySize;
  const parsed = parseGptEntries(await read(header.entriesLba * SECTOR, arrayBytes), header);
  if (!parsed.crcOk) problems.push(`the GPT entry array at LBA ${header.entriesLba} fails its CRC`);
  if (primary.ok && primary.header.backupLba !== lastLba) {
    problems.push(`the primary GPT header puts its backup at LBA ${primary.header.backupLba}, but the disk ends at LBA ${lastLba}`);
  }
  const regions: TableRegion[] = [{ what: 'mbr', start: MBR_SIGNATURE_OFFSET, end: SECTOR }];
  const arrayRegion = (h: GptHeader): { start: number; end: number } => ({ start: h.entriesLba * SECTOR, end: h.entriesLba * SECTOR + Math.ceil(arrayBytes / SECTOR) * SECTOR });
  if (primary.ok) {
    regions.push({ what: 'gpt-primary-header', start: SECTOR, end: 2 * SECTOR }, { what: 'gpt-primary-entries', ...arrayRegion(primary.header) });
  }
  if (backup.ok) {
    regions.push({ what: 'gpt-backup-entries', ...arrayRegion(backup.header) }, { what: 'gpt-backup-header', start: lastLba * SECTOR, end: (lastLba + 1) * SECTOR });
  }
  const partitions: Partition[] = parsed.entries.map((e) => ({
    index: e.index,
    start: e.firstLba * SECTOR,
    size: (e.lastLba - e.firstLba + 1) * SECTOR,
    type: e.typeGuid,
    bootable: (e.attributes & GPT_ATTR_LEGACY_BOOTABLE) !== 0n,
    uuid: e.uniqueGuid,
    ...(e.name ? { name: e.name } : {}),
  }));
  return {
    table: 'gpt',
    sizeBytes,
    diskId: header.diskGuid,
    partitions,
    regions,
    gpt: {
      diskGuid: header.diskGuid,
      firstUsableLba: header.firstUsableLba,
      lastUsableLba: header.lastUsableLba,
      entriesLba: header.entriesLba,
      entryCount: header.entryCount,
      entrySize: header.entrySize,
      usedHeader: primary.ok ? 'primary' : 'backup',
    },
    problems,
  };
}
