/**
 * The board profile: where a board's boot ROM reads its loader and what the card layout must
 * respect. Pure data types (zod schemas) shared by the engine, the CLI, the worker and the
 * renderer; no Node imports here, the renderer type-checks against this file.
 */
import { z } from 'zod';

export const ArchSchema = z.enum(['armv6', 'armv7', 'aarch64']);

/** One raw write of a loader file at a byte offset of the card. */
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

export const LoaderSourceSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('debian'),
    package: z.string(),
    arch: z.enum(['armhf', 'arm64', 'all']),
    /** Folder inside the package, e.g. usr/lib/u-boot/orangepi_plus. */
    dir: z.string(),
  }),
  z.object({ kind: z.literal('user'), note: z.string() }),
  z.object({ kind: z.literal('none'), note: z.string() }),
]);

export const BootMethodSchema = z.enum(['raw-offset', 'firmware-files', 'none']);

export const BoardSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  name: z.string(),
  vendor: z.string(),
  soc: z.string(),
  family: z.string(),
  arch: ArchSchema,
  bootMethod: BootMethodSchema,
  writes: z.array(LoaderWriteSchema),
  /** Other accepted loader layouts (e.g. one combined file instead of split SPL + FIT). */
  alternativeWrites: z.array(z.object({ label: z.string(), writes: z.array(LoaderWriteSchema) })).default([]),
  /** Byte ranges that must keep their contents, e.g. MBR 440..511 (end exclusive). */
  preserve: z.array(z.object({ start: z.number().int(), end: z.number().int(), why: z.string() })).default([]),
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
  console: z.string(),
  loader: LoaderSourceSchema,
  /** Source keys (see sources list) backing this profile. */
  sources: z.array(z.string()).min(1),
});

export type Arch = z.infer<typeof ArchSchema>;
export type LoaderWrite = z.infer<typeof LoaderWriteSchema>;
export type Board = z.infer<typeof BoardSchema>;
export type PartitionTableKind = z.infer<typeof PartitionTableKindSchema>;
