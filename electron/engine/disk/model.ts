/** Disk layouts as found on an image or card. Pure types; offsets are bytes, ends exclusive. */
import { z } from 'zod';

export const PartitionSchema = z.object({
  index: z.number().int().positive(),
  start: z.number().int().nonnegative(),
  size: z.number().int().nonnegative(),
  type: z.string(),
  bootable: z.boolean(),
  name: z.string().optional(),
  uuid: z.string().optional(),
  filesystem: z.string().optional(),
  label: z.string().optional(),
});
export type Partition = z.infer<typeof PartitionSchema>;

export const LoaderFoundSchema = z.object({
  kind: z.string(),
  offset: z.number().int().nonnegative(),
  length: z.number().int().nonnegative().optional(),
  valid: z.boolean(),
  detail: z.string(),
});
export type LoaderFound = z.infer<typeof LoaderFoundSchema>;

export const InspectionSchema = z.object({
  target: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  table: z.enum(['mbr', 'gpt', 'none']),
  diskId: z.string().optional(),
  partitions: z.array(PartitionSchema),
  loaders: z.array(LoaderFoundSchema),
  consistentBoards: z.array(z.string()),
  /**
   * What was not checked, in words, when only the start of a compressed or remote image was
   * decoded (the backup GPT in its last sectors, partitions starting further in, an estimated size).
   */
  notes: z.array(z.string()).optional(),
});
export type Inspection = z.infer<typeof InspectionSchema>;

/** A byte range [start, end) held by the partition table itself, named for overlap messages. */
export const TableRegionSchema = z.object({
  what: z.enum(['mbr', 'ebr', 'gpt-primary-header', 'gpt-primary-entries', 'gpt-backup-entries', 'gpt-backup-header']),
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
});
export type TableRegion = z.infer<typeof TableRegionSchema>;

export const GptInfoSchema = z.object({
  diskGuid: z.string(),
  firstUsableLba: z.number().int().nonnegative(),
  lastUsableLba: z.number().int().nonnegative(),
  entriesLba: z.number().int().nonnegative(),
  entryCount: z.number().int().nonnegative(),
  entrySize: z.number().int().nonnegative(),
  /** Which header the partitions were read from. */
  usedHeader: z.enum(['primary', 'backup']),
});
export type GptInfo = z.infer<typeof GptInfoSchema>;

/**
 * What the partition table of an image or card says. Partition `type` is `0x0c`-style for MBR and
 * the type GUID (upper case) for GPT; `uuid` is the Linux PARTUUID (`<signature>-<nn>` for MBR,
 * the unique GUID for GPT); `diskId` is `0x1234abcd` for MBR and the disk GUID for GPT.
 * `problems` lists damage found (bad CRCs, missing backup) that did not stop the read.
 */
export const DiskLayoutSchema = z.object({
  table: z.enum(['mbr', 'gpt', 'none']),
  sizeBytes: z.number().int().nonnegative(),
  diskId: z.string().optional(),
  partitions: z.array(PartitionSchema),
  regions: z.array(TableRegionSchema),
  gpt: GptInfoSchema.optional(),
  problems: z.array(z.string()),
});
export type DiskLayout = z.infer<typeof DiskLayoutSchema>;
