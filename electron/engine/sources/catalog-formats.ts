/**
 * Catalog formats → Cardsmith catalog entries. Pure: JSON in, entries + problems + counts out.
 *
 * Three formats are read as they are published:
 * - Cardsmith's own (catalogs/catalog.schema.json, validated per entry with ajv);
 * - Raspberry Pi Imager's os_list (catalogs/os-list.ts);
 * - Armbian's armbian-images.json (catalogs/armbian.ts).
 * Board names are mapped onto Cardsmith board ids by the tables in catalogs/board-slugs.ts;
 * unmatched ones are left out of `boards` rather than guessed. Every upstream entry is either
 * listed or skipped with a problem line naming it and the reason, and counted in `stats`.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseArmbianImages } from './catalogs/armbian';
import schema from './catalogs/catalog.schema.json';
import { parseRpiOsList } from './catalogs/os-list';
import { CatalogTally, REMOTE, entryLocation, isObject, text, type CatalogOrigin, type ParsedCatalog } from './catalogs/read';

export type { CatalogOrigin, ParsedCatalog } from './catalogs/read';
export type CatalogFormat = 'cardsmith' | 'rpi-imager' | 'armbian';

export function detectCatalogFormat(json: unknown): CatalogFormat | null {
  if (isObject(json) && json.format === 'cardsmith-catalog/1') return 'cardsmith';
  if (isObject(json) && Array.isArray(json.os_list)) return 'rpi-imager';
  if (Array.isArray(json) || (isObject(json) && Array.isArray(json.assets))) return 'armbian';
  return null;
}

/**
 * `origin` says whether the document may name local files: only a catalog file on disk that the
 * user chose may (see catalogs/read.ts); fetched and shipped catalogs may not.
 */
export function parseCatalog(json: unknown, source: string, boardIds: readonly string[], prefix = '', origin: CatalogOrigin = REMOTE): ParsedCatalog {
  switch (detectCatalogFormat(json)) {
    case 'cardsmith':
      return parseCardsmithCatalog(json, source, origin);
    case 'rpi-imager':
      return parseRpiOsList(json, source, boardIds, prefix, origin);
    case 'armbian':
      return parseArmbianImages(json, source, boardIds, origin);
    case null: {
      const tally = new CatalogTally(source, 'unreadable');
      tally.problems.push(`${source}: not a Cardsmith, Raspberry Pi Imager or Armbian catalog`);
      return tally.result();
    }
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

export function parseCardsmithCatalog(json: unknown, source: string, origin: CatalogOrigin = REMOTE): ParsedCatalog {
  const { document: validateDocument, entry: validateEntry } = catalogValidators();
  const tally = new CatalogTally(source, 'cardsmith');
  if (!validateDocument(json)) {
    tally.problems.push(`${source}: ${describeErrors(validateDocument.errors)}`);
    return tally.result();
  }
  const document = json as { entries: unknown[]; includes?: string[] };
  document.entries.forEach((raw, index) => {
    tally.met();
    const what = `entry ${isObject(raw) ? (text(raw.id) ?? `#${index}`) : `#${index}`}`;
    if (!validateEntry(raw)) {
      tally.skip('invalid-field', what, describeErrors(validateEntry.errors));
      return;
    }
    const entry = raw as { url: string };
    const location = entryLocation(entry.url, origin);
    if ('reason' in location) tally.skip(location.reason, what, location.why);
    else tally.list(what, { ...entry, url: location.url, catalog: source });
  });
  tally.links.push(...(document.includes ?? []).map((url) => ({ url, prefix: '' })));
  return tally.result();
}
