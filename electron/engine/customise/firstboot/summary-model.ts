/** The shape of `inspect`'s customisation summary (summary.ts fills it); zod only, for the contract. */
import { z } from 'zod';

export const FIRST_BOOT_KINDS = ['systemd', 'cloudinit', 'cloudinit-rpi', 'armbian'] as const;
export type FirstBootKind = (typeof FIRST_BOOT_KINDS)[number];

/** A refusal's reason as keyed sentences (the message, then its notes), which the app translates. */
const SaidSchema = z.array(z.object({ key: z.string(), params: z.record(z.string(), z.union([z.string(), z.number()])) })).optional();

export const CustomisationSummarySchema = z.object({
  /** Absent when the disk has no FAT partition. */
  bootPartitionOffset: z.number().int().nonnegative().optional(),
  /** The Armbian root filesystem holding the first-login preset, when that is the mechanism. */
  rootPartitionOffset: z.number().int().nonnegative().optional(),
  /**
   * How the disk takes first-boot settings, judged from the disk alone (a catalog's init_format
   * comes first when there is one); kind null: it cannot, and the reason says why (the GUI shows it).
   */
  mechanism: z.object({ kind: z.enum(FIRST_BOOT_KINDS).nullable(), reason: z.string(), said: SaidSchema }),
  /** First-boot files present on the boot partition (or the Armbian preset, by its path). */
  firstBootFiles: z.array(z.string()),
  /** cmdline.txt runs firstrun.sh on the next boot. */
  cmdlineHook: z.boolean(),
  hostname: z.string().optional(),
  users: z.array(z.string()),
  sshKeys: z.number().int().nonnegative(),
  wifiNetworks: z.array(z.string()),
  timezone: z.string().optional(),
  locale: z.string().optional(),
  /**
   * Only when inspect was given settings: the edit a flash with them would make, computed but not
   * written — the mechanism, why, and the boot partition's files it writes; kind null: refused,
   * and the reason says why (the card would be left untouched).
   */
  planned: z.object({ kind: z.enum(FIRST_BOOT_KINDS).nullable(), reason: z.string(), said: SaidSchema, files: z.array(z.string()) }).optional(),
  /** Why the files could not be read, when they could not. */
  problem: z.string().optional(),
});
export type CustomisationSummary = z.infer<typeof CustomisationSummarySchema>;
