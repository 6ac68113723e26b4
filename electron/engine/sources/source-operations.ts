/**
 * The `catalog` and `fetch` operations, and `openImageRef` for the operations that take an image:
 * thin glue from contract requests to catalogs, downloads and the cache. Catalog URLs beyond the
 * default and the cache root come from the request's `settings` (the app's Settings; see
 * source-settings.ts), else from CARDSMITH_CATALOGS and CARDSMITH_CACHE.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, rename, rm, stat } from 'node:fs/promises';
import type { Request, ResultOf } from '../api';
import { isAbsolutePath, isHttpUrl } from '../shared/pure';
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
  const entries = [...entriesForBoard(loaded.entries, request.board)];
  const withIcons = request.icons ? await (await import('./icons')).withIconData(entries, new DownloadCache(), ctx) : entries;
  return { entries: withIcons, problems: [...loaded.problems], stats: [...loaded.stats] };
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

/** A local image: its own path and sha256, hashed with progress (the station's report names it). */
async function hashLocal(path: string, ctx: JobContext): Promise<{ path: string; sha256: string; sizeBytes: number }> {
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) throw CardsmithError.keyed('bad-input', 'source.noImageFile', { path }, { path });
  const sizeBytes = info.size;
  ctx.phase('fetch', 'start', path);
  const progress = ctx.progress('fetch', sizeBytes);
  const hash = createHash('sha256');
  let done = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal: ctx.signal })) {
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    progress.update(done);
  }
  progress.finish();
  ctx.phase('fetch', 'done');
  return { path, sha256: hash.digest('hex'), sizeBytes };
}

async function downloadRef(source: string, ctx: JobContext): Promise<{ path: string; sha256: string; sizeBytes: number }> {
  const cache = new DownloadCache();
  let url = source;
  let expectedSha256: string | null = null;
  if (!isHttpUrl(source)) {
    const entry = await findCatalogEntry(source, ctx);
    if (!entry) {
      throw CardsmithError.keyed('bad-input', 'fetch.notUrlOrId', { source }, { source }, { hint: message('source.catalogHint') });
    }
    const resolved = await withPublishedSha256(entry, { signal: ctx.signal });
    url = resolved.url;
    expectedSha256 = resolved.sha256 ?? null;
    if (!expectedSha256) ctx.log('warn', `${entry.id} publishes no sha256: the download is checked only against itself`);
  }
  ctx.phase('fetch', 'start', message('phase.fetch.url', { url }));
  const object = await download(url, { cache, expectedSha256, ctx, signal: ctx.signal });
  ctx.phase('fetch', 'done');
  return object;
}

/** A URL or catalog id downloaded into the cache; a local file (absolute path) hashed where it is. */
export async function runFetch(request: Extract<Request, { op: 'fetch' }>, ctx: JobContext): Promise<ResultOf<'fetch'>> {
  const object = isAbsolutePath(request.source) ? await hashLocal(request.source, ctx) : await downloadRef(request.source, ctx);
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
