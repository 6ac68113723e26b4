/**
 * The board profile: where a board's boot ROM reads its loader and what the card layout must
 * respect. Pure data types (zod schemas) shared by the engine, the CLI, the worker and the
 * renderer; no Node imports here, the renderer type-checks against this file.
 *
 * Offsets are bytes from the start of the whole card; ranges are half-open (`end` exclusive).
 * The board database (data/boards.json) is validated against BoardDatabaseSchema on load.
 */
import { z } from 'zod';

export const ArchSchema = z.enum(['armv6', 'armv7', 'aarch64']);

/** One raw write of a loader file at a byte offset of the card (dd conv=notrunc semantics). */
export const LoaderWriteSchema = z.object({
  /** File name inside the loader source (Debian target folder, user folder, or image path). */
  file: z.string().min(1),
  /** Byte offset on the card where the write starts. */
  offsetBytes: z.number().int().nonnegative(),
  /** Largest number of bytes the slot can take before it runs into the next region. */
  maxBytes: z.number().int().positive(),
  /** Start of the file to copy from (Amlogic writes file bytes 512.. at card byte 512). */
  sourceOffsetBytes: z.number().int().nonnegative().default(0),
  /** Number of file bytes to copy; the whole rest of the file when absent. */
  lengthBytes: z.number().int().positive().optional(),
});

export const PartitionTableKindSchema = z.enum(['mbr', 'gpt', 'gpt-moved-entries']);

/** A Debian package folder holding some or all of a board's loader files. */
export const DebianFolderSchema = z.object({
  package: z.string(),
  arch: z.enum(['armhf', 'arm64', 'all']),
  /** Folder inside the package, e.g. usr/lib/u-boot/orangepi_plus. */
  dir: z.string(),
  /** The files of that folder the board uses (all writes' files when the source is `debian`). */
  files: z.array(z.string()).min(1),
});

export const LoaderSourceSchema = z.discriminatedUnion('kind', [
  /** Every file the board needs is in this Debian bookworm package folder. */
  z.object({ kind: z.literal('debian'), ...DebianFolderSchema.shape }),
  /** The person supplies the files (vendor-signed blobs, newer U-Boot); `debianPart` names what Debian ships towards it. */
  z.object({ kind: z.literal('user'), note: z.string(), debianPart: DebianFolderSchema.optional() }),
  /** Nothing goes on the card (Tegra eMMC, QEMU -bios, generic profiles). */
  z.object({ kind: z.literal('none'), note: z.string(), debianPart: DebianFolderSchema.optional() }),
]);

export const BootMethodSchema = z.enum(['raw-offset', 'firmware-files', 'none']);

export const AlternativeWritesSchema = z.object({
  label: z.string(),
  writes: z.array(LoaderWriteSchema).min(1),
  /** Tables this alternative allows, when they differ from the board's (e.g. sunxi @ 128 KiB allows GPT). */
  partitionTables: z.array(PartitionTableKindSchema).optional(),
});

export const BoardSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  name: z.string(),
  vendor: z.string(),
  soc: z.string(),
  /** Key into the database's `families` map (boot ROM behaviour and its sources). */
  family: z.string(),
  arch: ArchSchema,
  bootMethod: BootMethodSchema,
  writes: z.array(LoaderWriteSchema),
  /** Other accepted loader layouts (e.g. one combined file instead of split SPL + FIT). */
  alternativeWrites: z.array(AlternativeWritesSchema).default([]),
  /**
   * Bytes of sector 0 the loader may overwrite (Amlogic: the 440-byte boot-code area). Absent:
   * the loader never touches sector 0. MBR bytes 440..511 (disk signature, table, 0x55AA) are
   * never writable.
   */
  mbrWritable: z.object({ start: z.number().int().nonnegative(), end: z.number().int().max(440) }).optional(),
  partitionTables: z.array(PartitionTableKindSchema).min(1),
  firstPartitionMinStart: z.number().int().nonnegative(),
  bootPartition: z.object({
    fat: z.boolean(),
    mustBeFirst: z.boolean(),
    active: z.boolean(),
    firmwareFiles: z.array(z.string()).default([]),
    configTxt: z.array(z.string()).default([]),
  }),
  dtb: z.string().optional(),
  /** Linux serial console, e.g. ttyS0,115200; absent for generic profiles. */
  console: z.string().optional(),
  loader: LoaderSourceSchema,
  /** For generic profiles: the boards whose loader may be added to such an image (same arch family). */
  genericFor: z.array(ArchSchema).optional(),
  /** Facts not yet confirmed on hardware, shown with the profile. */
  uncertain: z.array(z.string()).default([]),
  /** Source keys (see the database's `sources` map) backing this profile, its family's included. */
  sources: z.array(z.string()).min(1),
});

export const FamilySchema = z.object({
  name: z.string(),
  /** What the boot ROM reads, in one sentence. */
  bootRom: z.string(),
  sources: z.array(z.string()).min(1),
});

export const BoardDatabaseSchema = z.object({
  schemaVersion: z.literal(1),
  /** Source key → public reference (repository + path + commit, document, URL). */
  sources: z.record(z.string(), z.string()),
  families: z.record(z.string(), FamilySchema),
  boards: z.array(BoardSchema).min(1),
});

export type Arch = z.infer<typeof ArchSchema>;
export type LoaderWrite = z.infer<typeof LoaderWriteSchema>;
export type LoaderSource = z.infer<typeof LoaderSourceSchema>;
export type DebianFolder = z.infer<typeof DebianFolderSchema>;
export type Board = z.infer<typeof BoardSchema>;
export type Family = z.infer<typeof FamilySchema>;
export type BoardDatabase = z.infer<typeof BoardDatabaseSchema>;
export type PartitionTableKind = z.infer<typeof PartitionTableKindSchema>;
