/** What Cardsmith knows about an image source before writing it. Pure types. */
import { z } from 'zod';

export const CompressionSchema = z.enum(['none', 'gz', 'xz', 'zst', 'bz2', 'zip']);
export type Compression = z.infer<typeof CompressionSchema>;

export const ImageInfoSchema = z.object({
  path: z.string(),
  compression: CompressionSchema,
  /** Size of the decompressed image. */
  sizeBytes: z.number().int().nonnegative().nullable(),
  sizeIsEstimate: z.boolean(),
  hasBmap: z.boolean(),
});
export type ImageInfo = z.infer<typeof ImageInfoSchema>;

/**
 * Where a rootfs entry's board loader (U-Boot/SPL) comes from: the board database's own source,
 * a Debian package (URL of the .deb and the folder inside it), or a folder inside the rootfs.
 */
export const LoaderOriginSchema = z.discriminatedUnion('from', [
  z.object({ from: z.literal('board') }),
  z.object({ from: z.literal('debian'), url: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(), dir: z.string() }),
  z.object({ from: z.literal('rootfs'), dir: z.string() }),
]);
export type LoaderOrigin = z.infer<typeof LoaderOriginSchema>;

export const CatalogEntrySchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().default(''),
  kind: z.enum(['image', 'rootfs']),
  boards: z.array(z.string()),
  url: z.string(),
  /** sha256 of the file as downloaded. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /** sha256 of the decompressed image (Raspberry Pi Imager's extract_sha256). */
  extractSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  checksumUrl: z.string().optional(),
  downloadSize: z.number().int().nonnegative().optional(),
  extractSize: z.number().int().nonnegative().optional(),
  releaseDate: z.string().optional(),
  /** Picture for the entry (Raspberry Pi Imager's `icon`): an http(s) URL, or a data: URL when asked for icons. */
  icon: z.string().optional(),
  /** How the image takes first-boot settings (Imager's `init_format`: systemd, cloudinit…). */
  initFormat: z.string().optional(),
  /** The upstream's own device tags or board name, as published. */
  devices: z.array(z.string()).optional(),
  /** Imager's `capabilities` (e.g. rpi_connect). */
  capabilities: z.array(z.string()).optional(),
  bmapUrl: z.string().optional(),
  /** For rootfs entries: where the board loader comes from. */
  loader: LoaderOriginSchema.optional(),
  /** The catalog the entry came from (URL or "default"). */
  catalog: z.string().optional(),
  cached: z.boolean().default(false),
});
export type CatalogEntry = z.infer<typeof CatalogEntrySchema>;

/** What one catalog document gave: entries met, listed, skipped by reason, boards covered. */
export const CatalogStatsSchema = z.object({
  source: z.string(),
  /** cardsmith, rpi-imager, armbian; "unreadable" when the document could not be read. */
  format: z.string(),
  read: z.number().int().nonnegative(),
  listed: z.number().int().nonnegative(),
  skipped: z.record(z.string(), z.number().int().nonnegative()),
  boards: z.array(z.string()),
  /** Upstream board names or device tags that map onto no Cardsmith board. */
  unmapped: z.array(z.string()),
});
export type CatalogStats = z.infer<typeof CatalogStatsSchema>;
