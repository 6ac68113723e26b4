/**
 * The `catalog` and `fetch` operations, and `openImageRef` for the operations that take an image:
 * thin glue from contract requests to catalogs, downloads and the cache. Catalog URLs beyond the
 * default and the cache root come from the request's `settings` (the app's Settings; see
 * source-settings.ts), else from CARDSMITH_CATALOGS and CARDSMITH_CACHE.
 */
import { copyFile, rename, rm } from 'node:fs/promises';
import { isHttpUrl, type Request, type ResultOf } from '../api';
import { boardDatabase } from '../boards/db';
import { CardsmithError } from '../errors';
import type { JobContext } from '../job';
import { DownloadCache, sha256OfFile } from './cache';
import { catalogUrlsFromEnv, entriesForBoard, publicCatalogsFromEnv, loadCatalogs, withPublishedSha256 } from './catalog';
import { download } from './fetch';
import type { CatalogEntry } from './model';
import { openImage, type OpenedImage } from './open-image';
import { message } from '../messages';

const boardIds = (): readonly string[] => boardDatabase().boards.map((board) => board.id);

export async function runCatalog(request: Extract<Request, { op: 'catalog' }>, ctx: JobContext): Promise<ResultOf<'catalog'>> {
  if (request.board !== undefined && !boardIds().includes(request.board)) {
    throw CardsmithError.keyed('unknown-board', 'board.unknown', { board: request.board }, { board: request.board });
  }
  const loaded = await loadCatalogs({ boardIds: boardIds(), extraUrls: catalogUrlsFromEnv(), followIncludes: publicCatalogsFromEnv(), signal: ctx.signal });
  return { entries: [...entriesForBoard(loaded.entries, request.board)], problems: [...loaded.problems], stats: [...loaded.stats] };
}

/** Finds a catalog entry by id, loading the catalogs only when the reference is not a URL. */
export async function findCatalogEntry(id: string, ctx: JobContext): Promise<CatalogEntry | null> {
  const loaded = await loadCatalogs({ boardIds: boardIds(), extraUrls: catalogUrlsFromEnv(), followIncludes: publicCatalogsFromEnv(), signal: ctx.signal });
  return loaded.entries.find((entry) => entry.id === id) ?? null;
}

/**
 * Opens an image reference for flash/verify/inspect: a path, a URL or a catalog id (the catalogs
 * are loaded only for an id; its checksum file is read when it publishes no sha256 itself).
 */
export async function openImageRef(ref: string, ctx: JobContext, options: { readonly zipEntry?: string; readonly bmapPath?: string } = {}): Promise<OpenedImage> {
  return openImage(ref, {
    ctx,
    signal: ctx.signal,
    zipEntry: options.zipEntry,
    bmapPath: options.bmapPath,
    findCatalogEntry: async (id) => {
      const entry = await findCatalogEntry(id, ctx);
      return entry ? withPublishedSha256(entry, { signal: ctx.signal }) : null;
    },
  });
}

export async function runFetch(request: Extract<Request, { op: 'fetch' }>, ctx: JobContext): Promise<ResultOf<'fetch'>> {
  const cache = new DownloadCache();
  let url = request.source;
  let expectedSha256: string | null = null;
  if (!isHttpUrl(request.source)) {
    const entry = await findCatalogEntry(request.source, ctx);
    if (!entry) {
      throw CardsmithError.keyed('bad-input', 'fetch.notUrlOrId', { source: request.source }, { source: request.source }, { hint: message('source.catalogHint') });
    }
    const resolved = await withPublishedSha256(entry, { signal: ctx.signal });
    url = resolved.url;
    expectedSha256 = resolved.sha256 ?? null;
    if (!expectedSha256) ctx.log('warn', `${entry.id} publishes no sha256: the download is checked only against itself`);
  }
  ctx.phase('fetch', 'start', message('phase.fetch.url', { url }));
  const object = await download(url, { cache, expectedSha256, ctx, signal: ctx.signal });
  ctx.phase('fetch', 'done');
  if (!request.output) return { path: object.path, sha256: object.sha256, sizeBytes: object.sizeBytes };
  const temporary = `${request.output}.cardsmith-partial`;
  try {
    await copyFile(object.path, temporary);
    if ((await sha256OfFile(temporary)) !== object.sha256) {
      throw CardsmithError.keyed('io', 'fetch.copyDiffers', { path: request.output }, { path: request.output });
    }
    await rename(temporary, request.output);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return { path: request.output, sha256: object.sha256, sizeBytes: object.sizeBytes };
}
