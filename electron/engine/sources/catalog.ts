/**
 * Loading catalogs: the embedded default, the catalogs it includes, and extra catalog URLs from
 * the settings, merged into one list of entries plus the problems met on the way.
 *
 * The app works without a network: the embedded default always loads, and every catalog fetched
 * once is kept in the cache (catalogs/<key>.json) and used when it cannot be fetched again — a
 * problem line says so. Linked documents (`includes`, os_list `subitems_url`) are followed to a
 * bounded depth and count. An entry id seen twice keeps its first definition. A catalog named by
 * a path (CARDSMITH_CATALOGS) is read from disk: a local catalog, whose entries may name local
 * files; entries of fetched catalogs may only name http(s) files.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CardsmithError } from '../errors';
import { DownloadCache, urlKey } from './cache';
import { parseCatalog, type CatalogOrigin, type ParsedCatalog } from './catalog-formats';
import { REMOTE, fileNameOf } from './catalogs/read';
import defaultCatalog from './catalogs/default.json';
import { isHttpUrl } from '../shared/pure';
import { getText, type RetryPolicy } from './http';
import type { CatalogEntry, CatalogStats } from './model';
import { currentSourceSettings } from './source-settings';

const MAX_DEPTH = 3;
const MAX_DOCUMENTS = 64;
const CATALOG_RETRY: RetryPolicy = { attempts: 2, baseDelayMs: 500, maxDelayMs: 2000 };

export interface CatalogOptions {
  /** Board ids that catalog board names are mapped onto. */
  readonly boardIds: readonly string[];
  /** Catalog URLs (or catalog files on disk) from the settings, loaded after the default. */
  readonly extraUrls?: readonly string[];
  /** Follow the default catalog's `includes` (the public Raspberry Pi and Armbian catalogs). */
  readonly followIncludes?: boolean;
  readonly cache?: DownloadCache;
  readonly signal?: AbortSignal;
  readonly retry?: RetryPolicy;
}

export interface LoadedCatalog {
  readonly entries: readonly CatalogEntry[];
  readonly problems: readonly string[];
  /** One row per catalog document, in load order. */
  readonly stats: readonly CatalogStats[];
}

/**
 * Extra catalog URLs: the job's settings when they name any list (an empty list means none),
 * else the environment (CARDSMITH_CATALOGS, comma or space separated).
 */
export function catalogUrlsFromEnv(): readonly string[] {
  return currentSourceSettings().catalogUrls ?? (process.env.CARDSMITH_CATALOGS ?? '').split(/[\s,]+/).filter(Boolean);
}

/**
 * Whether the default catalog's public `includes` are followed. CARDSMITH_PUBLIC_CATALOGS=0 turns
 * them off; the test suite does, so no test reaches a host outside this machine.
 */
export function publicCatalogsFromEnv(): boolean {
  return process.env.CARDSMITH_PUBLIC_CATALOGS !== '0';
}

async function fetchCatalogText(url: string, cache: DownloadCache, options: CatalogOptions): Promise<{ text: string; stale: string | null }> {
  const file = join(cache.root, 'catalogs', `${urlKey(url)}.json`);
  try {
    const text = await getText(url, { signal: options.signal, retry: options.retry ?? CATALOG_RETRY });
    await mkdir(join(cache.root, 'catalogs'), { recursive: true });
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
    return { text, stale: null };
  } catch (error) {
    if (error instanceof CardsmithError && error.info.cause === 'cancelled') throw error;
    const kept = await readFile(file, 'utf8').catch(() => null);
    if (kept === null) throw error;
    return { text: kept, stale: (error as Error).message };
  }
}

/** Reads a catalog document: a file on disk (a local catalog the user chose) or an http(s) URL. */
async function readCatalogText(location: string, cache: DownloadCache, options: CatalogOptions): Promise<{ text: string; stale: string | null }> {
  if (isHttpUrl(location)) return fetchCatalogText(location, cache, options);
  try {
    return { text: await readFile(location, 'utf8'), stale: null };
  } catch (error) {
    throw CardsmithError.keyed('bad-input', 'catalog.unreadable', { path: location, said: (error as Error).message }, { path: location });
  }
}

export async function loadCatalogs(options: CatalogOptions): Promise<LoadedCatalog> {
  const cache = options.cache ?? new DownloadCache();
  const entries: CatalogEntry[] = [];
  const problems: string[] = [];
  const stats: CatalogStats[] = [];
  const ids = new Set<string>();
  const add = (parsed: ParsedCatalog): void => {
    const skipped = { ...parsed.stats.skipped };
    let listed = parsed.stats.listed;
    problems.push(...parsed.problems);
    for (const entry of parsed.entries) {
      if (ids.has(entry.id)) {
        problems.push(`${parsed.stats.source}: entry ${entry.id}: the same file is listed earlier (${entry.url}); the first is kept (duplicate-id)`);
        skipped['duplicate-id'] = (skipped['duplicate-id'] ?? 0) + 1;
        listed -= 1;
        continue;
      }
      ids.add(entry.id);
      entries.push(entry);
    }
    stats.push({ ...parsed.stats, listed, skipped, boards: [...new Set(entries.filter((entry) => entry.catalog === parsed.stats.source).flatMap((entry) => entry.boards))].sort() });
  };
  const embedded = parseCatalog(defaultCatalog, 'default', options.boardIds);
  add(embedded);

  const queue: { url: string; prefix: string; depth: number }[] = [
    ...(options.followIncludes === false ? [] : embedded.links.map((link) => ({ ...link, depth: 1 }))),
    ...(options.extraUrls ?? []).map((url) => ({ url: isHttpUrl(url) ? url : resolve(url.replace(/^file:\/\//, '')), prefix: '', depth: 1 })),
  ];
  const visited = new Set<string>();
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (visited.has(next.url)) continue;
    if (visited.size >= MAX_DOCUMENTS) {
      problems.push(`more than ${MAX_DOCUMENTS} linked catalogs; ${next.url} and later ones were not loaded`);
      break;
    }
    visited.add(next.url);
    let document: unknown;
    try {
      const { text, stale } = await readCatalogText(next.url, cache, options);
      if (stale) problems.push(`${next.url}: unreachable (${stale}); using the copy saved earlier`);
      document = JSON.parse(text);
    } catch (error) {
      if (error instanceof CardsmithError && error.info.cause === 'cancelled') throw error;
      problems.push(`${next.url}: ${error instanceof SyntaxError ? `not valid JSON (${error.message})` : (error as Error).message}`);
      stats.push({ source: next.url, format: 'unreadable', read: 0, listed: 0, skipped: {}, boards: [], unmapped: [] });
      continue;
    }
    const origin: CatalogOrigin = isHttpUrl(next.url) ? REMOTE : { kind: 'local', path: next.url };
    const parsed = parseCatalog(document, next.url, options.boardIds, next.prefix, origin);
    add(parsed);
    for (const link of parsed.links) {
      if (next.depth >= MAX_DEPTH) problems.push(`${link.url}: linked too deeply, not loaded`);
      else queue.push({ ...link, depth: next.depth + 1 });
    }
  }
  return { entries: await markCached(entries, cache), problems, stats };
}

async function markCached(entries: readonly CatalogEntry[], cache: DownloadCache): Promise<CatalogEntry[]> {
  return Promise.all(
    entries.map(async (entry) => {
      const hit = entry.sha256 ? await cache.get(entry.sha256) : await cache.getByUrl(entry.url);
      return hit ? { ...entry, cached: true } : entry;
    }),
  );
}

export function entriesForBoard(entries: readonly CatalogEntry[], board: string | undefined): readonly CatalogEntry[] {
  return board === undefined ? entries : entries.filter((entry) => entry.boards.includes(board));
}

/**
 * The sha256 of `fileName` in a published checksum file: `sha256sum` lines ("<hex>  name" or
 * "<hex> *name"), or a file holding a single hash. Null when the file names no sha256 for it.
 */
export function findSha256(checksumText: string, fileName: string): string | null {
  const lines = checksumText
    .split(/\r?\n/)
    .map((line) => /^([0-9a-fA-F]{64})(?:\s+\*?(.+?))?\s*$/.exec(line.trim()))
    .filter((match): match is RegExpExecArray => match !== null);
  const named = lines.find((match) => match[2] !== undefined && match[2].split('/').pop() === fileName);
  if (named) return named[1]!.toLowerCase();
  return lines.length === 1 ? lines[0]![1]!.toLowerCase() : null;
}

/** The entry with its sha256 filled in from its checksum URL when it has none of its own. */
export async function withPublishedSha256(entry: CatalogEntry, options: { signal?: AbortSignal; retry?: RetryPolicy } = {}): Promise<CatalogEntry> {
  if (entry.sha256 || !entry.checksumUrl) return entry;
  const text = await getText(entry.checksumUrl, { signal: options.signal, retry: options.retry ?? CATALOG_RETRY, maxBytes: 1 << 20 });
  const fileName = fileNameOf(entry.url);
  const sha256 = findSha256(text, fileName);
  if (!sha256) {
    throw CardsmithError.keyed('bad-input', 'catalog.noSha256', { checksumUrl: entry.checksumUrl, fileName }, {
      checksumUrl: entry.checksumUrl,
      fileName,
    });
  }
  return { ...entry, sha256 };
}
