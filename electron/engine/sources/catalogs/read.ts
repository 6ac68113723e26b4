/**
 * What every catalog reader shares: value readers, the rule for which entry URLs a catalog may
 * carry, the card-image test on file names, and the tally that turns each upstream entry into
 * either a listed entry or a counted, reported skip. No entry leaves a reader unaccounted for.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CatalogEntrySchema, type CatalogEntry, type CatalogStats } from '../model';

/**
 * Where a catalog document came from. A `remote` one (fetched, or shipped in the app) may only
 * point at http(s) files; a `local` one is a catalog file on disk the user chose, and may also
 * name files on disk (relative paths are taken from the catalog file's folder).
 */
export type CatalogOrigin = { readonly kind: 'remote' } | { readonly kind: 'local'; readonly path: string };
export const REMOTE: CatalogOrigin = { kind: 'remote' };

export const SKIP_REASONS = [
  'missing-field',
  'invalid-field',
  'unsupported-url',
  'local-path-in-remote-catalog',
  'not-a-card-image',
  'imager-action',
  'duplicate-id',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** Whether a problem line reports one skipped entry (it ends with its reason). */
export const isSkipLine = (problem: string): boolean => SKIP_REASONS.some((reason) => problem.endsWith(`(${reason})`));

export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
export const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);
export const count = (value: unknown): number | undefined => {
  const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number >= 0 ? number : undefined;
};
export const sha256 = (value: unknown): string | undefined => {
  const hex = text(value)?.toLowerCase();
  return hex && /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
};
/** A calendar date at the start of the value (os_list "2024-11-19", Armbian "2025-08-20T10:00:00Z"). */
export const date = (value: unknown): string | undefined => {
  const match = /^(\d{4}-\d{2}-\d{2})(?:$|[T ])/.exec(text(value) ?? '');
  return match ? match[1] : undefined;
};
export const stringList = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
export const slug = (value: string): string =>
  value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/** "field value" for each field that is present but does not read as its type. */
export function invalidFields(item: Record<string, unknown>, readers: Record<string, (value: unknown) => unknown>): string[] {
  return Object.entries(readers)
    .filter(([field, read]) => item[field] !== undefined && item[field] !== '' && read(item[field]) === undefined)
    .map(([field]) => `${field} ${JSON.stringify(item[field])}`);
}

/** The file an entry may be read from, or why it may not: see CatalogOrigin. */
export function entryLocation(url: string, origin: CatalogOrigin): { readonly url: string } | { readonly reason: SkipReason; readonly why: string } {
  if (/^https?:\/\/[^/]/i.test(url)) return { url };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  const isPath = scheme === undefined || scheme === 'file' || /^[a-z]:[\\/]/i.test(url);
  if (!isPath) return { reason: 'unsupported-url', why: `url ${JSON.stringify(url)} is not http(s)` };
  if (origin.kind === 'remote') {
    return { reason: 'local-path-in-remote-catalog', why: `url ${JSON.stringify(url)} names a local file, which only a catalog file on this computer may do` };
  }
  const path = scheme === 'file' ? fileURLToPath(url) : url;
  return { url: isAbsolute(path) ? path : resolve(dirname(origin.path), path) };
}

const COMPRESSED_IMAGE = /\.(img|raw|wic)(\.(gz|xz|zst|bz2))?$/;

/**
 * Whether a published file name is something Cardsmith writes to a card: a raw image (.img,
 * .raw, Yocto's .wic), compressed with a format it decodes, or a zip (a zip holding no image
 * fails when opened, naming it). Null when it is one; else what it is.
 */
export function notACardImage(fileName: string): string | null {
  const name = fileName.toLowerCase();
  if (/oowow/.test(name)) return "an image for Khadas' OOWOW installer, not for a card";
  if (/u-boot|\.bin(\.[a-z0-9]+)?$/.test(name)) return 'a boot loader file, not a card image';
  if (COMPRESSED_IMAGE.test(name) || name.endsWith('.zip')) return null;
  if (/\.(qcow2|vhdx?|vmdk|vdi|ova)(\.[a-z0-9]+)?$/.test(name)) return 'a virtual machine disk, not a card image';
  if (/\.(torrent|sha|sha256|asc|sig|txt)$/.test(name)) return 'a signature, checksum or torrent file, not a card image';
  if (/\.(img|raw|wic)\.[a-z0-9]+$/.test(name)) return `an image compressed as .${name.split('.').pop()}, which Cardsmith does not decode`;
  return 'not a .img/.raw/.wic image (plain or gz/xz/zst/bz2) nor a zip';
}

/** The last path segment of a URL or path, decoded. */
export function fileNameOf(url: string): string {
  const path = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? new URL(url).pathname : url;
  const last = path.split(/[\\/]/).pop() ?? '';
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

export interface ParsedCatalog {
  readonly entries: readonly CatalogEntry[];
  readonly problems: readonly string[];
  /** Catalog documents this one refers to (`includes`, `subitems_url`), with a name prefix. */
  readonly links: readonly { readonly url: string; readonly prefix: string }[];
  readonly stats: CatalogStats;
}

/** Counts one document's entries as they are read, listed or skipped (with a problem line). */
export class CatalogTally {
  readonly entries: CatalogEntry[] = [];
  readonly problems: string[] = [];
  readonly links: { url: string; prefix: string }[] = [];
  private readonly skipped: Record<string, number> = {};
  private readonly unmapped = new Set<string>();
  private read = 0;

  constructor(
    readonly source: string,
    private readonly format: string,
  ) {}

  /** One upstream entry met (an image, not a folder or a link). */
  met(): void {
    this.read += 1;
  }

  skip(reason: SkipReason, what: string, why: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
    this.problems.push(`${this.source}: ${what}: ${why} (${reason})`);
  }

  /** A board name or device tag that maps onto no Cardsmith board. */
  noBoardFor(name: string): void {
    this.unmapped.add(name);
  }

  /** Lists the candidate if it is a valid entry, else skips it naming the invalid fields. */
  list(what: string, candidate: Record<string, unknown>): void {
    const parsed = CatalogEntrySchema.safeParse(candidate);
    if (parsed.success) this.entries.push(parsed.data);
    else this.skip('invalid-field', what, parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; '));
  }

  result(): ParsedCatalog {
    const boards = [...new Set(this.entries.flatMap((entry) => entry.boards))].sort();
    return {
      entries: this.entries,
      problems: this.problems,
      links: this.links,
      stats: { source: this.source, format: this.format, read: this.read, listed: this.entries.length, skipped: { ...this.skipped }, boards, unmapped: [...this.unmapped].sort() },
    };
  }
}
