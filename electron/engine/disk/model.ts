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
});
export type Inspection = z.infer<typeof InspectionSchema>;
