/** The shape of `inspect`'s customisation summary (summary.ts fills it); zod only, for the contract. */
import { z } from 'zod';

export const CustomisationSummarySchema = z.object({
  bootPartitionOffset: z.number().int().nonnegative(),
  /** First-boot files present on the boot partition. */
  firstBootFiles: z.array(z.string()),
  /** cmdline.txt runs firstrun.sh on the next boot. */
  cmdlineHook: z.boolean(),
  hostname: z.string().optional(),
  users: z.array(z.string()),
  sshKeys: z.number().int().nonnegative(),
  wifiNetworks: z.array(z.string()),
  timezone: z.string().optional(),
  /** Why the files could not be read, when they could not. */
  problem: z.string().optional(),
});
export type CustomisationSummary = z.infer<typeof CustomisationSummarySchema>;
