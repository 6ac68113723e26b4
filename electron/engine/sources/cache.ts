/**
 * The download cache: content-addressed, resumable, size-limited.
 *
 * Layout under the cache root (a parameter, else the job's settings, env CARDSMITH_CACHE, or
 * ~/.cache/cardsmith):
 *   objects/<sha256>        complete downloads, named by the sha256 of their bytes
 *   objects/<sha256>.json   { url, sizeBytes, verified, lastUsed } — lastUsed drives LRU eviction
 *   urls/<key>.json         url → sha256 (+ the response's ETag/Last-Modified), so a URL is found
 *                           offline, or revalidated, without knowing its hash
 *   partial/<key>.part      bytes received so far for a URL (key = sha256 of the URL)
 *   partial/<key>.json      { url, validator, expectedSha256 } to resume after a restart
 *   quarantine/<name>       downloads whose checksum did not match; never served as good
 * A download only becomes an object by rename after its hash is known (and matched when expected),
 * so no half-written file ever sits under a final name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { currentSourceSettings } from './source-settings';

export const DEFAULT_CACHE_LIMIT_BYTES = 32 * 1024 ** 3;

export interface CacheOptions {
  readonly root?: string;
  readonly limitBytes?: number;
  readonly now?: () => number;
}

export interface CachedObject {
  readonly sha256: string;
  readonly path: string;
  readonly sizeBytes: number;
  readonly url: string | null;
  /** True when the bytes matched a published checksum, false when only their own hash is known. */
  readonly verified: boolean;
}

interface ObjectMeta {
  url: string | null;
  sizeBytes: number;
  verified: boolean;
  lastUsed: number;
}

export interface PartialMeta {
  readonly url: string;
  /** ETag or Last-Modified of the response the partial bytes came from (for If-Range). */
  readonly validator: string | null;
  readonly expectedSha256: string | null;
}

export function defaultCacheRoot(): string {
  return currentSourceSettings().cacheDir || process.env.CARDSMITH_CACHE || join(homedir(), '.cache', 'cardsmith');
}

export const urlKey = (url: string): string => createHash('sha256').update(url).digest('hex');

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/**
 * Writes JSON through a temporary name so a crash never leaves a torn file. The name is unique to
 * this write: parallel writers of one file (two catalog entries with one sha256 touching its
 * lastUsed) would otherwise rename each other's temporary file away; the last rename wins whole.
 */
async function writeJson(path: string, value: unknown): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, JSON.stringify(value));
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export class DownloadCache {
  readonly root: string;
  readonly limitBytes: number;
  private readonly now: () => number;

  constructor(options: CacheOptions = {}) {
    this.root = options.root ?? defaultCacheRoot();
    this.limitBytes = options.limitBytes ?? currentSourceSettings().cacheLimitBytes ?? DEFAULT_CACHE_LIMIT_BYTES;
    this.now = options.now ?? Date.now;
  }

  private dir(name: 'objects' | 'urls' | 'partial' | 'quarantine'): string {
    return join(this.root, name);
  }

  async ensure(): Promise<void> {
    await Promise.all((['objects', 'urls', 'partial', 'quarantine'] as const).map((name) => mkdir(this.dir(name), { recursive: true })));
  }

  objectPath(sha256: string): string {
    return join(this.dir('objects'), sha256);
  }

  partialPaths(url: string): { readonly data: string; readonly meta: string } {
    const key = urlKey(url);
    return { data: join(this.dir('partial'), `${key}.part`), meta: join(this.dir('partial'), `${key}.json`) };
  }

  /** A complete object by hash, touching its LRU time; null when absent. */
  async get(sha256: string): Promise<CachedObject | null> {
    const path = this.objectPath(sha256);
    const meta = await readJson<ObjectMeta>(`${path}.json`);
    const info = await stat(path).catch(() => null);
    if (!meta || !info || info.size !== meta.sizeBytes) return null;
    await writeJson(`${path}.json`, { ...meta, lastUsed: this.now() });
    return { sha256, path, sizeBytes: meta.sizeBytes, url: meta.url, verified: meta.verified };
  }

  /** The object last downloaded from a URL, for offline use when its hash is not known. */
  async getByUrl(url: string): Promise<CachedObject | null> {
    return (await this.getByUrlWithValidator(url))?.object ?? null;
  }

  /** The object last downloaded from a URL and the ETag/Last-Modified it came with (null if none). */
  async getByUrlWithValidator(url: string): Promise<{ readonly object: CachedObject; readonly validator: string | null } | null> {
    const entry = await readJson<{ sha256: string; validator?: string | null }>(join(this.dir('urls'), `${urlKey(url)}.json`));
    const object = entry ? await this.get(entry.sha256) : null;
    return object ? { object, validator: entry?.validator ?? null } : null;
  }

  async readPartial(url: string): Promise<{ readonly meta: PartialMeta; readonly bytes: number } | null> {
    const paths = this.partialPaths(url);
    const meta = await readJson<PartialMeta>(paths.meta);
    const info = await stat(paths.data).catch(() => null);
    if (!meta || !info || meta.url !== url) return null;
    return { meta, bytes: info.size };
  }

  async writePartialMeta(meta: PartialMeta): Promise<void> {
    await writeJson(this.partialPaths(meta.url).meta, meta);
  }

  async dropPartial(url: string): Promise<void> {
    const paths = this.partialPaths(url);
    await Promise.all([rm(paths.data, { force: true }), rm(paths.meta, { force: true })]);
  }

  /** Moves a finished partial download into the objects, then evicts to stay within the limit. */
  async commitPartial(url: string, sha256: string, verified: boolean, validator: string | null = null): Promise<CachedObject> {
    const paths = this.partialPaths(url);
    const path = this.objectPath(sha256);
    const { size } = await stat(paths.data);
    await writeJson(`${path}.json`, { url, sizeBytes: size, verified, lastUsed: this.now() } satisfies ObjectMeta);
    await rename(paths.data, path);
    await rm(paths.meta, { force: true });
    await writeJson(join(this.dir('urls'), `${urlKey(url)}.json`), { url, sha256, validator });
    await this.evict(sha256);
    return { sha256, path, sizeBytes: size, url, verified };
  }

  /** Moves a download whose checksum failed aside, so it is never served; returns where it went. */
  async quarantine(url: string, actualSha256: string): Promise<string> {
    const target = join(this.dir('quarantine'), `${urlKey(url).slice(0, 16)}-${actualSha256.slice(0, 16)}-${this.now()}`);
    const paths = this.partialPaths(url);
    await rename(paths.data, target);
    await rm(paths.meta, { force: true });
    return target;
  }

  /** Removes least recently used objects until the total fits the limit, never `keep`. */
  async evict(keep: string): Promise<readonly string[]> {
    const names = (await readdir(this.dir('objects'))).filter((name) => /^[0-9a-f]{64}$/.test(name));
    const objects: { sha256: string; sizeBytes: number; lastUsed: number }[] = [];
    for (const sha256 of names) {
      const meta = await readJson<ObjectMeta>(join(this.dir('objects'), `${sha256}.json`));
      const size = meta?.sizeBytes ?? (await stat(this.objectPath(sha256))).size;
      objects.push({ sha256, sizeBytes: size, lastUsed: meta?.lastUsed ?? 0 });
    }
    let total = objects.reduce((sum, object) => sum + object.sizeBytes, 0);
    const evicted: string[] = [];
    for (const object of objects.sort((a, b) => a.lastUsed - b.lastUsed)) {
      if (total <= this.limitBytes) break;
      if (object.sha256 === keep) continue;
      await rm(this.objectPath(object.sha256), { force: true });
      await rm(`${this.objectPath(object.sha256)}.json`, { force: true });
      total -= object.sizeBytes;
      evicted.push(object.sha256);
    }
    return evicted;
  }
}
