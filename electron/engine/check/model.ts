/** What a card check finds (imported by the contract, so pure zod: no Node imports). */
import { z } from 'zod';

/**
 * How the card fails past its real capacity or at its bad spots:
 * - wrap-around: addresses past the real size land on lower ones (a write there overwrites data);
 * - lost-writes: writes past the real size vanish (reads return the old contents, zeros or 0xff);
 * - corrupt-data: blocks read back changed (bit errors: a worn or broken card);
 * - read-errors / write-errors: the card answers with I/O errors.
 */
export const FailureKindSchema = z.enum(['wrap-around', 'lost-writes', 'corrupt-data', 'read-errors', 'write-errors']);
export type FailureKind = z.infer<typeof FailureKindSchema>;

export const BadBlockSchema = z.object({ offset: z.number().int().nonnegative(), kind: FailureKindSchema, detail: z.string().optional() });

export const CapacityProbeSchema = z.object({
  claimedBytes: z.number().int().nonnegative(),
  /** Bytes from 0 that hold what is written: the first bad probe position (the claimed size when none). */
  realBytes: z.number().int().nonnegative(),
  /** The real size is exact to this many bytes (the probe block). */
  resolutionBytes: z.number().int().positive(),
  /** Empty for a good card; the kinds seen, most telling first. */
  failures: z.array(FailureKindSchema),
  /** The first bad positions (at most 32), in card order. */
  badBlocks: z.array(BadBlockSchema).max(32),
  badBlockCount: z.number().int().nonnegative(),
  blocksWritten: z.number().int().nonnegative(),
  blockBytes: z.number().int().positive(),
});
export type CapacityProbe = z.infer<typeof CapacityProbeSchema>;

export const SpeedSchema = z.object({
  sequentialWriteMBps: z.number().nonnegative(),
  sequentialReadMBps: z.number().nonnegative(),
  randomWriteIops: z.number().nonnegative(),
  randomReadIops: z.number().nonnegative(),
  /** Bytes each sequential test moved, and operations each random test made. */
  sequentialBytes: z.number().int().nonnegative(),
  randomOps: z.number().int().nonnegative(),
  /** SD classes the measured speeds reach (C10, U1, U3, V30, A1, A2); a lower bound, measured at queue depth 1. */
  classes: z.array(z.string()),
  /** In words: "fine for an OS", "slow for a root filesystem", … */
  summary: z.string(),
  tooSlow: z.boolean(),
});
export type Speed = z.infer<typeof SpeedSchema>;

export const CardIdentitySchema = z.object({
  /** Stable key the results are remembered by (see check/identity.ts). */
  key: z.string(),
  kind: z.enum(['sd', 'usb', 'loop', 'other']),
  fields: z.record(z.string(), z.string()),
});
export type CardIdentity = z.infer<typeof CardIdentitySchema>;

export const CardCheckSchema = z.object({
  device: z.string(),
  verdict: z.enum(['good', 'fake-capacity', 'failing', 'too-slow']),
  /** One sentence a person understands. */
  summary: z.string(),
  capacity: CapacityProbeSchema,
  speed: SpeedSchema.optional(),
  identity: CardIdentitySchema,
  checkedAt: z.string(),
  logFile: z.string().optional(),
  seconds: z.number().nonnegative(),
});
export type CardCheck = z.infer<typeof CardCheckSchema>;
