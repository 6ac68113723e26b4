/**
 * Catalog formats → Cardsmith catalog entries. Pure: JSON in, entries + problems out.
 *
 * Three formats are read as they are published:
 * - Cardsmith's own (catalogs/catalog.schema.json, validated per entry with ajv);
 * - Raspberry Pi Imager's os_list: a tree of items; an item with `url` is an image, one with
 *   `subitems` a folder, one with `subitems_url` a folder kept in another file (returned as a
 *   link for the loader to follow). Hashes: image_download_sha256 (as downloaded) and
 *   extract_sha256 (the image); `devices` tags (pi4-64bit…) name Pi models;
 * - Armbian's armbian-images.json: a flat list of assets (board slug, vendor, file_url,
 *   file_url_sha = URL of a checksum file, file_size, kernel branch, variant).
 * Board names are mapped onto Cardsmith board ids where one clearly matches; unmatched ones are
 * left out of `boards` rather than guessed. One bad entry is a problem naming it; the rest stay.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import schema from './catalogs/catalog.schema.json';
import { CatalogEntrySchema, type CatalogEntry } from './model';

export interface ParsedCatalog {
  readonly entries: readonly CatalogEntry[];
  readonly problems: readonly string[];
  /** Catalog documents this one refers to (`includes`, `subitems_url`), with a name prefix. */
  readonly links: readonly { readonly url: string; readonly prefix: string }[];
}

export type CatalogFormat = 'cardsmith' | 'rpi-imager' | 'armbian';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);
const count = (value: unknown): number | undefined => {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number >= 0 ? number : undefined;
};
const sha256 = (value: unknown): string | undefined => {
  const hex = text(value)?.toLowerCase();
  return hex && /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
};
const slug = (value: string): string =>
  value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

export function detectCatalogFormat(json: unknown): CatalogFormat | null {
  if (isObject(json) && json.format === 'cardsmith-catalog/1') return 'cardsmith';
  if (isObject(json) && Array.isArray(json.os_list)) return 'rpi-imager';
  if (Array.isArray(json) || (isObject(json) && Array.isArray(json.assets))) return 'armbian';
  return null;
}

export function parseCatalog(json: unknown, source: string, boardIds: readonly string[], prefix = ''): ParsedCatalog {
  switch (detectCatalogFormat(json)) {
    case 'cardsmith':
      return parseCardsmithCatalog(json, source);
    case 'rpi-imager':
      return parseRpiOsList(json, source, boardIds, prefix);
    case 'armbian':
      return parseArmbianImages(json, source, boardIds);
    case null:
      return { entries: [], problems: [`${source}: not a Cardsmith, Raspberry Pi Imager or Armbian catalog`], links: [] };
  }
}

/**
 * Compiled on the first Cardsmith catalog parsed: compiling is slow enough to notice, and every CLI
 * start (flash, inspect, the privileged worker) paid it at load time before.
 */
let validators: { readonly document: ValidateFunction; readonly entry: ValidateFunction } | null = null;
function catalogValidators(): NonNullable<typeof validators> {
  if (!validators) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    validators = {
      document: ajv.compile({ ...schema, properties: { ...schema.properties, entries: { type: 'array' } } }),
      entry: ajv.compile({ ...schema.definitions.entry, definitions: schema.definitions }),
    };
  }
  return validators;
}

function describeErrors(errors: readonly ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((error) => `${error.instancePath || '(entry)'} ${error.message ?? 'is invalid'}`).join('; ');
}

export function parseCardsmithCatalog(json: unknown, source: string): ParsedCatalog {
  const { document: validateDocument, entry: validateEntry } = catalogValidators();
  if (!validateDocument(json)) return { entries: [], problems: [`${source}: ${describeErrors(validateDocument.errors)}`], links: [] };
  const document = json as { entries: unknown[]; includes?: string[] };
  const entries: CatalogEntry[] = [];
  const problems: string[] = [];
  document.entries.forEach((raw, index) => {
    const name = isObject(raw) ? (text(raw.id) ?? `#${index}`) : `#${index}`;
    if (!validateEntry(raw)) {
      problems.push(`${source}: entry ${name}: ${describeErrors(validateEntry.errors)}`);
      return;
    }
    entries.push(CatalogEntrySchema.parse({ ...(raw as object), catalog: source }));
  });
  return { entries, problems, links: (document.includes ?? []).map((url) => ({ url, prefix: '' })) };
}

/** Names of the fields that are present but do not read as their type. */
function invalidFields(item: Record<string, unknown>, readers: Record<string, (value: unknown) => unknown>): string[] {
  return Object.entries(readers)
    .filter(([field, read]) => item[field] !== undefined && item[field] !== '' && read(item[field]) === undefined)
    .map(([field]) => `${field} ${JSON.stringify(item[field])}`);
}

/** Raspberry Pi Imager device tags → the Cardsmith ids of the Pi models they cover. */
const RPI_DEVICES: Readonly<Record<string, readonly string[]>> = {
  'pi5-64bit': ['rpi-5'],
  'pi4-64bit': ['rpi-4-b', 'rpi-400'],
  'pi4-32bit': ['rpi-4-b-armv7'],
  'pi3-64bit': ['rpi-3-b', 'rpi-3-b-plus', 'rpi-zero-2-w'],
  'pi3-32bit': ['rpi-3-b-armv7'],
  'pi2-32bit': ['rpi-2-b'],
  'pi1-32bit': ['rpi-b', 'rpi-zero-w'],
};

export function parseRpiOsList(json: unknown, source: string, boardIds: readonly string[], prefix = ''): ParsedCatalog {
  const known = new Set(boardIds);
  const entries: CatalogEntry[] = [];
  const problems: string[] = [];
  const links: { url: string; prefix: string }[] = [];
  const walk = (items: unknown[], path: string, inherited: readonly string[]): void => {
    items.forEach((item, index) => {
      if (!isObject(item)) {
        problems.push(`${source}: item ${path}#${index} is not an object`);
        return;
      }
      const name = text(item.name);
      const where = `${path}${name ?? `#${index}`}`;
      if (!name) {
        problems.push(`${source}: item ${where} has no name`);
        return;
      }
      const devices = Array.isArray(item.devices) ? item.devices.filter((d): d is string => typeof d === 'string') : inherited;
      if (Array.isArray(item.subitems)) {
        walk(item.subitems, `${where} / `, devices);
        return;
      }
      const subitemsUrl = text(item.subitems_url);
      if (subitemsUrl) {
        links.push({ url: subitemsUrl, prefix: `${where} / ` });
        return;
      }
      const url = text(item.url);
      if (!url || !/^https?:\/\//.test(url)) {
        // Imager's own actions ("Erase" = internal://format, "Use custom") carry no image.
        return;
      }
      const invalid = invalidFields(item, { image_download_sha256: sha256, extract_sha256: sha256, image_download_size: count, extract_size: count });
      if (invalid.length > 0) {
        // A published hash that cannot be read must not silently become "no hash".
        problems.push(`${source}: item ${where}: invalid ${invalid.join(', ')}`);
        return;
      }
      const boards = [...new Set(devices.flatMap((device) => RPI_DEVICES[device] ?? []))].filter((id) => known.has(id));
      const candidate = {
        id: `rpi:${slug(where)}`,
        name: where,
        description: text(item.description) ?? '',
        kind: 'image',
        boards,
        url,
        sha256: sha256(item.image_download_sha256),
        extractSha256: sha256(item.extract_sha256),
        downloadSize: count(item.image_download_size),
        extractSize: count(item.extract_size),
        releaseDate: text(item.release_date),
        catalog: source,
      };
      const parsed = CatalogEntrySchema.safeParse(candidate);
      if (parsed.success) entries.push(parsed.data);
      else problems.push(`${source}: item ${where}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}`);
    });
  };
  walk((json as { os_list: unknown[] }).os_list, prefix, []);
  return { entries, problems, links };
}

/** Armbian slugs whose Cardsmith id differs by more than punctuation. */
const ARMBIAN_ALIASES: Readonly<Record<string, string>> = {
  pine64: 'pine64-plus',
  bananapi: 'bananapi-m1',
  bananapipro: 'bananapro',
  lamobo: 'lamobo-r1',
  orangepizero2w: 'orangepi-zero2w',
};

/** Maps an Armbian board slug onto a board id equal to it up to punctuation, else null. */
export function mapArmbianSlug(boardSlug: string, boardIds: readonly string[]): string | null {
  const squash = (value: string): string => value.toLowerCase().replace(/[^a-z0-9]/g, '');
  const alias = ARMBIAN_ALIASES[squash(boardSlug)];
  if (alias && boardIds.includes(alias)) return alias;
  return boardIds.find((id) => squash(id) === squash(boardSlug)) ?? null;
}

export function parseArmbianImages(json: unknown, source: string, boardIds: readonly string[]): ParsedCatalog {
  const assets = Array.isArray(json) ? json : ((json as { assets: unknown[] }).assets ?? []);
  const entries: CatalogEntry[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  assets.forEach((asset, index) => {
    if (!isObject(asset)) {
      problems.push(`${source}: asset #${index} is not an object`);
      return;
    }
    const boardSlug = text(asset.board_slug);
    const url = text(asset.file_url);
    if (!boardSlug || !url) {
      problems.push(`${source}: asset #${index} (${boardSlug ?? 'no board_slug'}) has no ${boardSlug ? 'file_url' : 'board_slug'}`);
      return;
    }
    const release = text(asset.distro_release) ?? text(asset.distro) ?? '';
    const branch = text(asset.kernel_branch) ?? text(asset.branch) ?? '';
    const variant = text(asset.image_variant) ?? text(asset.variant) ?? '';
    const app = text(asset.preinstalled_application) ?? '';
    const version = text(asset.armbian_version) ?? '';
    const id = `armbian:${slug([boardSlug, release, branch, variant, app].filter(Boolean).join('-'))}`;
    if (seen.has(id)) return; // Several mirrors or archive formats of one image: keep the first.
    seen.add(id);
    const board = mapArmbianSlug(boardSlug, boardIds);
    const vendor = text(asset.board_vendor) ?? text(asset.company_name);
    const boardName = text(asset.board_name) ?? boardSlug;
    const checksum = text(asset.file_url_sha);
    const candidate = {
      id,
      name: `Armbian ${version} ${boardName} ${release} ${branch} ${variant}${app ? ` ${app}` : ''}`.replace(/\s+/g, ' ').trim(),
      description: [vendor ? `Vendor: ${vendor}` : '', board ? '' : `Board "${boardSlug}" has no Cardsmith profile yet.`].filter(Boolean).join('. '),
      kind: 'image',
      boards: board ? [board] : [],
      url,
      checksumUrl: checksum && /^https?:\/\//.test(checksum) ? checksum : undefined,
      sha256: sha256(checksum),
      downloadSize: count(asset.file_size),
      releaseDate: text(asset.file_date)?.slice(0, 10),
      catalog: source,
    };
    const parsed = CatalogEntrySchema.safeParse(candidate);
    if (parsed.success) entries.push(parsed.data);
    else problems.push(`${source}: asset ${id}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}`);
  });
  return { entries, problems, links: [] };
}
