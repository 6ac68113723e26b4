/** A drive as the scanner reports it, and why it may not be written. Pure types. */
import { z } from 'zod';
import { KeyedMessageSchema } from '../errors';

export const ReaderKindSchema = z.enum(['sd', 'usb', 'internal', 'loop', 'virtual', 'unknown']);

/** Drives above this size get a warning: SD cards are rarely larger, backup disks often are. */
export const LARGE_DRIVE_BYTES = 128e9;

/** The reader a card sits in (Linux sysfs; null where the OS says nothing). */
export const DriveReaderSchema = z.object({
  vendor: z.string().nullable(),
  model: z.string().nullable(),
  serial: z.string().nullable(),
  /** Where the card sits: the reader's sysfs port path, or a loop device's backing file. */
  path: z.string().nullable(),
});
export type DriveReader = z.infer<typeof DriveReaderSchema>;

export const DriveSchema = z.object({
  device: z.string(),
  description: z.string(),
  sizeBytes: z.number().int().nonnegative().nullable(),
  readerKind: ReaderKindSchema,
  removable: z.boolean(),
  readOnly: z.boolean(),
  system: z.boolean(),
  /** Mount points of the drive and all its partitions. */
  mountpoints: z.array(z.string()),
  /** Empty when the drive is a safe target; otherwise every reason it is not. */
  unsafeReasons: z.array(z.string()),
  warnings: z.array(z.string()),
  /** Filled by the Linux scanner; absent where the OS gives no reader identity. */
  reader: DriveReaderSchema.optional(),
  /** The same reasons and warnings as message keys, in the same order, for the app to translate. */
  unsafeKeys: z.array(KeyedMessageSchema).optional(),
  warningKeys: z.array(KeyedMessageSchema).optional(),
});
export type Drive = z.infer<typeof DriveSchema>;
