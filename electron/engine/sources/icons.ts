/**
 * Catalog logos (os_list `icon`). The page may show images of its own origin and data: URLs
 * only (its CSP names no remote host), so the engine fetches each logo, checks it and hands it
 * over as a data: URL, which the page shows in an <img> (an SVG there runs no script). A logo is
 * at most ICON_MAX_BYTES, served as PNG, JPEG, WebP or SVG with bytes that are what the header
 * says; it is kept in the cache (`icons/`), so it shows offline once seen. A logo that cannot be
 * had is left out: the page draws its own.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CardsmithError } from '../errors';
import type { JobContext } from '../job';
import { isHttpUrl } from '../shared/pure';
import type { DownloadCache } from './cache';
import { urlKey } from './cache';
import { classify, get } from './http';
import type { CatalogEntry } from './model';

export const ICON_MAX_BYTES = 128 * 1024;
const ICON_TIMEOUT_MS = 5000;
const PARALLEL = 6;

const startsWith = (bytes: Buffer, at: number, signature: string): boolean => bytes.subarray(at, at + signature.length).equals(Buffer.from(signature, 'latin1'));

/** What each accepted media type's bytes must look like. */
const SIGNATURES: Readonly<Record<string, (bytes: Buffer) => boolean>> = {
  'image/png': (b) => startsWith(b, 0, '\x89PNG\r\n\x1a\n'),
  'image/jpeg': (b) => startsWith(b, 0, '\xff\xd8\xff'),
  'image/webp': (b) => startsWith(b, 0, 'RIFF') && startsWith(b, 8, 'WEBP'),
  'image/svg+xml': (b) => !b.includes(0) && /<svg[\s>]/i.test(b.subarray(0, 4096).toString('utf8')),
};

/** The logo at `url` as a data: URL, from the cache or fetched and checked now. */
export async function iconDataUrl(url: string, cache: DownloadCache, signal?: AbortSignal): Promise<string> {
  const file = join(cache.root, 'icons', `${urlKey(url)}.txt`);
  const kept = await readFile(file, 'utf8').catch(() => null);
  if (kept !== null && kept.startsWith('data:image/')) return kept;
  const { type, bytes } = await fetchIcon(url, signal);
  const data = `data:${type};base64,${bytes.toString('base64')}`;
  await mkdir(join(cache.root, 'icons'), { recursive: true });
  await writeFile(`${file}.tmp`, data);
  await rename(`${file}.tmp`, file);
  return data;
}

async function fetchIcon(url: string, signal: AbortSignal | undefined): Promise<{ type: string; bytes: Buffer }> {
  if (!isHttpUrl(url)) throw CardsmithError.keyed('bad-input', 'icon.notHttp', { url }, { url });
  const response = await get(url, {}, { signal, idleTimeoutMs: ICON_TIMEOUT_MS });
  const type = (response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const matches = SIGNATURES[type];
  if (!matches) {
    response.resume();
    throw CardsmithError.keyed('source-corrupt', 'icon.type', { url, type }, { url, contentType: type });
  }
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response) {
      size += (chunk as Buffer).length;
      if (size > ICON_MAX_BYTES) {
        response.destroy();
        throw CardsmithError.keyed('source-corrupt', 'icon.tooLarge', { url, max: ICON_MAX_BYTES }, { url, limitBytes: ICON_MAX_BYTES });
      }
      parts.push(chunk as Buffer);
    }
  } catch (error) {
    throw classify(error, signal);
  }
  const bytes = Buffer.concat(parts);
  if (!matches(bytes)) throw CardsmithError.keyed('source-corrupt', 'icon.notType', { url, type }, { url, contentType: type, offset: 0 });
  return { type, bytes };
}

/**
 * The entries with each http(s) logo replaced by its data: URL, or left out when it cannot be
 * had (offline, too big, not an image); a few logos are fetched at a time.
 */
export async function withIconData(entries: readonly CatalogEntry[], cache: DownloadCache, ctx: JobContext): Promise<CatalogEntry[]> {
  const urls = [...new Set(entries.flatMap((entry) => (entry.icon && isHttpUrl(entry.icon) ? [entry.icon] : [])))];
  const found = new Map<string, string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < urls.length) {
      const url = urls[next++]!;
      try {
        found.set(url, await iconDataUrl(url, cache, ctx.signal));
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        ctx.log('debug', `logo left out: ${(error as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, urls.length) }, worker));
  return entries.map((entry) => {
    if (!entry.icon || !isHttpUrl(entry.icon)) return entry;
    const { icon, ...rest } = entry;
    const data = found.get(icon);
    return data ? { ...rest, icon: data } : rest;
  });
}
