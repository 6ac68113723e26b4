/**
 * Downloads into the cache: resumable, checksummed, optionally streamed while they arrive.
 *
 * Resume: bytes land in the cache's partial file as they arrive. After a dropped connection the
 * next attempt asks for `Range: bytes=<have>-` with `If-Range: <validator>`; a 206 appends, a 200
 * (server ignores ranges, or the file changed) is read from the start with the bytes already held
 * skipped — the final sha256 decides whether the result is good. After an app restart the partial
 * file and its metadata are found again by URL and hashed before continuing.
 *
 * Revalidation: a URL with no published hash is keyed by URL and the ETag/Last-Modified it came
 * with. When the cache holds it, the first request is conditional; a 304 serves the cached copy,
 * so flashing the same URL again downloads nothing.
 *
 * Flash while downloading (`tee`): every byte of the file, from byte 0, is written to the tee in
 * order with backpressure. The tee is ended only after the sha256 matched (or there was nothing to
 * match); on a mismatch or a final failure it is destroyed with the error. A consumer that treats
 * "my input ended without error" as "the source was good" is therefore correct.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';
import { CardsmithError, classifyOsError } from '../errors';
import type { JobContext, ProgressReporter } from '../job';
import type { CachedObject, DownloadCache } from './cache';
import { classify, DEFAULT_RETRY, get, RetryableError, withRetries, type RetryPolicy } from './http';

export interface DownloadOptions {
  readonly cache: DownloadCache;
  /** sha256 of the downloaded bytes as published; the download is good only if it matches. */
  readonly expectedSha256?: string | null;
  readonly ctx?: JobContext;
  readonly signal?: AbortSignal;
  readonly retry?: RetryPolicy;
  readonly idleTimeoutMs?: number;
  readonly tee?: Writable;
}

/** Downloads `url` into the cache (or finds it there) and returns the cached object. */
export async function download(url: string, options: DownloadOptions): Promise<CachedObject> {
  const { cache, tee } = options;
  const expected = options.expectedSha256?.toLowerCase() ?? null;
  await cache.ensure();
  try {
    if (expected) {
      const hit = await cache.get(expected);
      if (hit) {
        options.ctx?.log('info', `Using the cached copy of ${url}`);
        if (tee) await replay(hit.path, tee, options.signal);
        tee?.end();
        return hit;
      }
    }
    const previous = expected ? null : await cache.getByUrlWithValidator(url);
    const result = await downloadFresh(url, expected, options, previous?.validator ? previous : null).catch(async (error: unknown) => {
      const offline = !expected && error instanceof CardsmithError && error.info.cause === 'network' ? await cache.getByUrl(url) : null;
      if (!offline || tee) throw error;
      options.ctx?.log('warn', `Offline: using the copy of ${url} cached earlier (${(error as Error).message})`);
      return offline;
    });
    tee?.end();
    return result;
  } catch (error) {
    tee?.destroy(error as Error);
    throw error;
  }
}

/** The If-None-Match or If-Modified-Since header for a stored ETag or Last-Modified value. */
function conditional(validator: string): Record<string, string> {
  return /^(W\/)?"/.test(validator) ? { 'if-none-match': validator } : { 'if-modified-since': validator };
}

async function downloadFresh(
  url: string,
  expected: string | null,
  options: DownloadOptions,
  previous: { readonly object: CachedObject; readonly validator: string | null } | null,
): Promise<CachedObject> {
  const { cache, tee, signal } = options;
  const partialPaths = cache.partialPaths(url);
  let partial = await cache.readPartial(url);
  if (partial && partial.meta.expectedSha256 !== expected) {
    await cache.dropPartial(url);
    partial = null;
  }
  const hash = createHash('sha256');
  let have = 0;
  let validator = partial?.meta.validator ?? null;
  if (partial) {
    options.ctx?.log('info', `Resuming ${url} at byte ${partial.bytes}`);
    have = await replay(partialPaths.data, tee, signal, hash);
  }
  await cache.writePartialMeta({ url, validator, expectedSha256: expected });
  const file = await open(partialPaths.data, 'a');
  let reporter: ProgressReporter | undefined;
  let notModified = false;
  try {
    await withRetries(
      { verb: 'downloading', url },
      options.retry ?? DEFAULT_RETRY,
      signal,
      async (progressed) => {
        const revalidate = have === 0 && previous?.validator ? conditional(previous.validator) : {};
        const headers: Record<string, string> = have > 0 ? { range: `bytes=${have}-`, ...(validator ? { 'if-range': validator } : {}) } : revalidate;
        const response = await get(url, headers, { signal, idleTimeoutMs: options.idleTimeoutMs });
        if (response.statusCode === 304) {
          response.resume();
          notModified = true;
          return;
        }
        if (response.statusCode === 416) {
          response.resume();
          if (totalFromContentRange(response.headers['content-range']) === have) return;
          throw new RetryableError(`the server refused the range starting at byte ${have}`);
        }
        const responseValidator = response.headers.etag ?? response.headers['last-modified'] ?? null;
        if (responseValidator !== validator) {
          validator = responseValidator;
          await cache.writePartialMeta({ url, validator, expectedSha256: expected });
        }
        const partialContent = response.statusCode === 206;
        const length = Number(response.headers['content-length'] ?? NaN);
        const total = partialContent ? totalFromContentRange(response.headers['content-range']) : Number.isFinite(length) ? length : null;
        if (!reporter) reporter = options.ctx?.progress('fetch', total);
        else reporter.setTotal(total);
        const start = partialContent ? startFromContentRange(response.headers['content-range']) : 0;
        if (partialContent && start !== have) {
          response.resume();
          throw new RetryableError(`the server answered from byte ${start}, not ${have}`);
        }
        const skip = have - start;
        await receive(response, {
          skip,
          hash,
          file: (chunk) => file.write(chunk).catch((error: unknown) => Promise.reject(classifyOsError(error, { kind: 'file', path: partialPaths.data, action: 'writing' }))),
          tee,
          signal,
          progressed: (bytes) => {
            have += bytes;
            reporter?.update(have);
            progressed();
          },
        });
        if (!response.complete) throw new RetryableError(`connection closed at byte ${have}`);
      },
      (message, delay) => options.ctx?.log('warn', `${message}; retrying in ${Math.round(delay / 100) / 10} s`),
    );
  } finally {
    await file.close();
  }
  if (notModified && previous) {
    await cache.dropPartial(url);
    options.ctx?.log('info', `${url} is unchanged (${previous.validator}): using the cached copy`);
    if (tee) await replay(previous.object.path, tee, signal);
    return previous.object;
  }
  reporter?.finish();
  const actual = hash.digest('hex');
  if (expected && actual !== expected) {
    const quarantined = await cache.quarantine(url, actual);
    throw CardsmithError.keyed('checksum-mismatch', 'fetch.checksum', { url }, {
      url,
      expected,
      actual,
      quarantined,
    });
  }
  return cache.commitPartial(url, actual, expected !== null, validator);
}

interface ReceiveState {
  readonly skip: number;
  readonly hash: Hash;
  readonly file: (chunk: Buffer) => Promise<unknown>;
  readonly tee: Writable | undefined;
  readonly signal: AbortSignal | undefined;
  /** Called after each chunk is on disk and hashed, before the tee gets it. */
  readonly progressed: (bytes: number) => void;
}

/** Appends one response body to the partial file, hash and tee. */
async function receive(response: IncomingMessage, state: ReceiveState): Promise<void> {
  let toSkip = state.skip;
  try {
    for await (const raw of response) {
      let chunk = raw as Buffer;
      if (toSkip > 0) {
        const dropped = Math.min(toSkip, chunk.length);
        toSkip -= dropped;
        chunk = chunk.subarray(dropped);
        if (chunk.length === 0) continue;
      }
      await state.file(chunk);
      state.hash.update(chunk);
      state.progressed(chunk.length);
      if (state.tee) await writeTo(state.tee, chunk);
    }
  } catch (error) {
    throw classify(error, state.signal);
  }
}

/** Feeds a file already on disk into the tee (and hash), returning its length. */
async function replay(path: string, tee: Writable | undefined, signal: AbortSignal | undefined, hash?: Hash): Promise<number> {
  let length = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) {
    const buffer = chunk as Buffer;
    hash?.update(buffer);
    length += buffer.length;
    if (tee) await writeTo(tee, buffer);
  }
  return length;
}

function writeTo(target: Writable, chunk: Buffer): Promise<void> {
  if (target.destroyed) return Promise.reject(CardsmithError.keyed('cancelled', 'fetch.consumerGone', {}));
  if (target.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      target.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      target.off('drain', onDrain);
      reject(CardsmithError.keyed('cancelled', 'fetch.consumerGone', {}));
    };
    target.once('drain', onDrain);
    target.once('close', onClose);
  });
}

function startFromContentRange(header: string | undefined): number {
  const match = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(header ?? '');
  return match ? Number(match[1]) : -1;
}

function totalFromContentRange(header: string | undefined): number | null {
  const match = /\/(\d+)$/.exec(header ?? '');
  return match ? Number(match[1]) : null;
}
