/**
 * Where the partitions of a built image go. The boot (FAT) partition comes first, at the board's
 * minimum first-partition start (after its loader area and, for GPT, after a possibly relocated
 * entry array) rounded up to whole MiB — 1 MiB when nothing precedes it but the table, the
 * alignment fdisk and parted use — and the root (ext4) partition follows, MiB-aligned. The table's identity (MBR disk signature, GPT GUIDs) comes from the build seed, so
 * PARTUUIDs in the boot config are known before anything is written. The resulting DiskLayout is
 * read back from the table bytes themselves, so the loader planner checks exactly what is written.
 */
import { gptEntryArrayStart, minFirstPartitionStart } from '../boards/planner';
import type { Board, LoaderWrite } from '../boards/model';
import { buildGpt, GPT_ATTR_LEGACY_BOOTABLE, GPT_TYPES, type TableWrite } from '../disk/gpt';
import { guidFromSeed, u32FromSeed } from '../disk/guid';
import { buildMbr, mbrPartUuid, SECTOR } from '../disk/mbr';
import type { DiskLayout } from '../disk/model';
import { readDiskLayout } from '../disk/read-layout';

const MIB = 1024 * 1024;
const MIN_FIRST_START = MIB;
const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

export type TableKind = 'mbr' | 'gpt';

export interface DiskPlanInput {
  readonly board: Board;
  readonly table: TableKind;
  readonly loaderWrites: readonly LoaderWrite[];
  readonly bootBytes: number;
  readonly bootFat: 'fat16' | 'fat32';
  readonly rootBytes: number;
  readonly seed: string;
}

export interface PartitionPlace {
  readonly start: number;
  readonly size: number;
  readonly partUuid: string;
}

export interface DiskPlan {
  readonly table: TableKind;
  readonly sizeBytes: number;
  readonly boot: PartitionPlace;
  readonly root: PartitionPlace;
  readonly tableWrites: readonly { readonly offset: number; readonly bytes: Uint8Array }[];
}

/** Partition starts: boot at the board's minimum (≥ 1 MiB, MiB-aligned), root right after it. */
function placePartitions(input: Omit<DiskPlanInput, 'rootBytes'>): { bootStart: number; rootStart: number } {
  const minimum = minFirstPartitionStart(input.board, input.table, input.loaderWrites);
  const bootStart = roundUp(Math.max(MIN_FIRST_START, minimum), MIB);
  return { bootStart, rootStart: roundUp(bootStart + input.bootBytes, MIB) };
}

/** Where the root partition starts (the boot partition before it decides), before its size is known. */
export function rootStartOf(input: Omit<DiskPlanInput, 'rootBytes'>): number {
  return placePartitions(input).rootStart;
}

/** The image size a root of `rootBytes` leads to (GPT keeps a MiB at the end for its backup). */
function imageSizeFor(rootStart: number, rootBytes: number, table: TableKind): number {
  return rootStart + roundUp(rootBytes, MIB) + (table === 'gpt' ? MIB : 0);
}

/** The root partition's PARTUUID, known from the seed alone (the boot config needs it early). */
export function rootPartUuid(table: TableKind, seed: string): string {
  return table === 'mbr' ? mbrPartUuid(u32FromSeed(seed, 'mbr-disk-signature'), 2) : guidFromSeed(seed, 'gpt-root');
}

export function planDisk(input: DiskPlanInput): DiskPlan {
  const { bootStart, rootStart } = placePartitions(input);
  const rootSize = roundUp(input.rootBytes, MIB);
  const sizeBytes = imageSizeFor(rootStart, input.rootBytes, input.table);
  const bootSize = rootStart - bootStart;
  if (input.table === 'mbr') {
    const signature = u32FromSeed(input.seed, 'mbr-disk-signature');
    const sector = buildMbr(signature, [
      { bootable: true, type: input.bootFat === 'fat32' ? 0x0c : 0x0e, startLba: bootStart / SECTOR, sectors: bootSize / SECTOR },
      { bootable: false, type: 0x83, startLba: rootStart / SECTOR, sectors: rootSize / SECTOR },
    ]);
    return {
      table: 'mbr',
      sizeBytes,
      boot: { start: bootStart, size: bootSize, partUuid: mbrPartUuid(signature, 1) },
      root: { start: rootStart, size: rootSize, partUuid: mbrPartUuid(signature, 2) },
      tableWrites: [{ offset: 0, bytes: sector }],
    };
  }
  const bootGuid = guidFromSeed(input.seed, 'gpt-boot');
  const rootGuid = guidFromSeed(input.seed, 'gpt-root');
  const built = buildGpt({
    diskSectors: sizeBytes / SECTOR,
    diskGuid: guidFromSeed(input.seed, 'gpt-disk'),
    entriesLba: gptEntryArrayStart(input.board, input.loaderWrites) / SECTOR,
    partitions: [
      { typeGuid: GPT_TYPES.microsoftBasicData, uniqueGuid: bootGuid, firstLba: bootStart / SECTOR, lastLba: rootStart / SECTOR - 1, name: 'boot', attributes: GPT_ATTR_LEGACY_BOOTABLE },
      { typeGuid: GPT_TYPES.linuxFilesystem, uniqueGuid: rootGuid, firstLba: rootStart / SECTOR, lastLba: (rootStart + rootSize) / SECTOR - 1, name: 'rootfs', attributes: 0n },
    ],
  });
  return {
    table: 'gpt',
    sizeBytes,
    boot: { start: bootStart, size: bootSize, partUuid: bootGuid },
    root: { start: rootStart, size: rootSize, partUuid: rootGuid },
    tableWrites: built.writes.map((w: TableWrite) => ({ offset: w.offset, bytes: w.bytes })),
  };
}

/** The DiskLayout of the planned table, parsed from its own bytes. */
export async function layoutOf(plan: DiskPlan): Promise<DiskLayout> {
  return readDiskLayout(async (offset, length) => {
    const out = new Uint8Array(length);
    for (const w of plan.tableWrites) {
      const from = Math.max(offset, w.offset);
      const to = Math.min(offset + length, w.offset + w.bytes.length);
      if (from < to) out.set(w.bytes.subarray(from - w.offset, to - w.offset), from - offset);
    }
    return out;
  }, plan.sizeBytes);
}
