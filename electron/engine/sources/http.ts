/**
 * The HTTP edge: one GET with redirects and an idle timeout, classified failures, and the retry
 * policy shared by downloads and catalog fetches.
 *
 * Failures fall in two kinds. Retryable: connection errors, timeouts, 5xx, 408 and 429 — retried
 * with exponential backoff a bounded number of times (a download that made progress starts its
 * count again). Final: 4xx such as 404, too many redirects, unsupported URL schemes, and a
 * redirect from https to plain http (it would hand the rest of the exchange to anyone on the path).
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { CardsmithError, isNetworkFailure } from '../errors';
import { message } from '../messages';

export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000 };
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 8;

export interface HttpOptions {
  readonly signal?: AbortSignal;
  readonly idleTimeoutMs?: number;
  readonly retry?: RetryPolicy;
  /** Certificates to trust instead of the system's for https (tests with their own server). */
  readonly ca?: string | Buffer;
}

/** A failure worth another attempt (the connection, the server's load), as opposed to a final answer. */
export class RetryableError extends Error {}

export function backoffDelay(policy: RetryPolicy, failure: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failure - 1));
}

function finalStatusError(url: string, status: number): CardsmithError {
  const missing = status === 404 || status === 410;
  return CardsmithError.keyed('network', missing ? 'http.notFound' : 'http.refused', { url, status }, { url, status }, { hint: message('http.checkUrl') });
}

/**
 * Sends one GET and resolves with a response whose status is 2xx (or 304 to a conditional
 * request, or 416 for a range past the end). Redirects are followed; the idle timeout also covers the body that is read afterwards.
 */
export async function get(url: string, headers: Record<string, string>, options: HttpOptions = {}): Promise<IncomingMessage> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const response = await requestOnce(current, headers, options);
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location) {
      response.resume();
      current = redirectTarget(url, current, response.headers.location);
      continue;
    }
    if ((status >= 200 && status < 300) || status === 304 || status === 416) return response;
    response.resume();
    if (status >= 500 || status === 408 || status === 429) throw new RetryableError(`HTTP ${status} from ${current}`);
    throw finalStatusError(current, status);
  }
  throw CardsmithError.keyed('network', 'http.redirects', { url }, { url });
}

/** Where a redirect leads; refused when it would leave https for plain http. */
function redirectTarget(original: string, from: string, location: string): string {
  const to = new URL(location, from).toString();
  if (new URL(from).protocol === 'https:' && new URL(to).protocol !== 'https:') {
    throw CardsmithError.keyed(
      'network',
      'http.downgrade',
      { from, to },
      { url: original, from, to },
      { hint: message('http.downgradeHint') },
    );
  }
  return to;
}

function requestOnce(url: string, headers: Record<string, string>, options: HttpOptions): Promise<IncomingMessage> {
  const parsed = new URL(url);
  const client = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : null;
  if (!client) throw CardsmithError.keyed('bad-input', 'http.scheme', { url }, { url });
  return new Promise((resolve, reject) => {
    const tls = client === https && options.ca !== undefined ? { ca: options.ca } : {};
    const request = client.get(parsed, { headers: { 'user-agent': 'cardsmith', ...headers }, signal: options.signal, ...tls }, resolve);
    request.setTimeout(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () => {
      request.destroy(new RetryableError(`no data from ${parsed.host} for ${(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS) / 1000} s`));
    });
    request.on('error', (error) => reject(classify(error, options.signal)));
  });
}

/**
 * Maps socket-level errors to retryable ones and an abort to `cancelled`; anything else (a full
 * disk under the cache, a missing file) is final and classified where it is reported.
 */
export function classify(error: unknown, signal?: AbortSignal): Error {
  if (signal?.aborted) return CardsmithError.keyed('cancelled', 'http.cancelled', {});
  if (error instanceof CardsmithError || error instanceof RetryableError) return error;
  if (!isNetworkFailure(error)) return error instanceof Error ? error : new Error(String(error));
  return new RetryableError(error instanceof Error ? error.message : String(error));
}

/**
 * Runs `attempt` until it succeeds, fails finally, or has failed `policy.attempts` times in a row.
 * `attempt` calls `progressed()` when it moved forward, which resets the count.
 */
export async function withRetries<T>(
  what: { readonly verb: 'fetching' | 'downloading'; readonly url: string },
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  attempt: (progressed: () => void) => Promise<T>,
  onRetry?: (message: string, delayMs: number) => void,
): Promise<T> {
  let failures = 0;
  for (;;) {
    try {
      return await attempt(() => {
        failures = 0;
      });
    } catch (error) {
      const classified = classify(error, signal);
      if (!(classified instanceof RetryableError)) throw classified;
      failures += 1;
      if (failures >= policy.attempts) {
        throw CardsmithError.keyed('network', 'http.gaveUp', { ...what, attempts: failures, reason: classified.message }, {
          attempts: failures,
          reason: classified.message,
        });
      }
      const delay = backoffDelay(policy, failures);
      onRetry?.(classified.message, delay);
      await sleep(delay, undefined, { signal }).catch(() => {
        throw CardsmithError.keyed('cancelled', 'http.cancelled', {});
      });
    }
  }
}

/** Fetches a small text document (a catalog, a checksum file) with retries and a size cap. */
export async function getText(url: string, options: HttpOptions & { readonly maxBytes?: number } = {}): Promise<string> {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  return withRetries({ verb: 'fetching', url }, options.retry ?? DEFAULT_RETRY, options.signal, async () => {
    const response = await get(url, {}, options);
    const parts: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) throw CardsmithError.keyed('bad-input', 'http.tooLarge', { url, maxBytes }, { url });
        parts.push(chunk as Buffer);
      }
    } catch (error) {
      throw classify(error, options.signal);
    }
    if (!response.complete) throw new RetryableError(`connection closed early by ${new URL(url).host}`);
    return Buffer.concat(parts).toString('utf8');
  });
}
