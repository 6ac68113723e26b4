/**
 * Opening an image source: a local file, an http(s) URL or a catalog id becomes one stream of
 * decompressed image bytes, plus what is known about it before reading (format by magic bytes,
 * size exact or estimated, block map, the hashes it must match).
 *
 * The contract with consumers (flash, verify, build): the stream from `stream()` ends without an
 * error only if decoding succeeded and every known checksum matched — the published sha256 of the
 * downloaded/compressed bytes and, where a catalog gives one, the sha256 of the image itself.
 * A URL that is not cached yet is streamed while it downloads (into the cache, resumably), and the
 * stream still ends only after the download's hash matched.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { PassThrough, Readable, Transform } from 'node:stream';
import { basename } from 'node:path';
import { CardsmithError, classifyOsError } from '../errors';
import { message } from '../messages';
import type { JobContext } from '../job';
import { parseBmap, type Bmap } from './bmap';
import { DownloadCache } from './cache';
import { createDecompressor, decompressFile, detectFormat, MAGIC_BYTES, type StreamCompression } from './decompress';
import { download } from './fetch';
import { isHttpUrl } from '../shared/pure';
import { getText, type RetryPolicy } from './http';
import { probeSize } from './image-size';
import type { CatalogEntry, Compression, ImageInfo } from './model';
import type { PullReader } from './pull-reader';
import { openZipImage } from './zip-image';

export interface OpenImageOptions {
  readonly cache?: DownloadCache;
  readonly ctx?: JobContext;
  readonly signal?: AbortSignal;
  readonly retry?: RetryPolicy;
  /** The image to use inside a zip holding several. */
  readonly zipEntry?: string;
  /** A bmap file the person named (`flash --bmap FILE`), used instead of any found beside the image. */
  readonly bmapPath?: string;
  /** Looks up a catalog id (source-operations.ts `openImageRef` wires the loaded catalogs). */
  readonly findCatalogEntry?: (id: string) => Promise<CatalogEntry | null>;
  /** Published sha256 of the source bytes as stored (compressed), for a local file or URL. */
  readonly expectedSha256?: string;
  /** Published sha256 of the decompressed image. */
  readonly expectedImageSha256?: string;
}

export interface OpenedImage {
  readonly info: ImageInfo;
  /** Bytes the decompressed image certainly has (an estimated size may be a guess; this is not). */
  readonly minSizeBytes: number;
  readonly bmap: Bmap | null;
  readonly expected: { readonly sourceSha256: string | null; readonly imageSha256: string | null };
  /** The decompressed image; call once. Ends without error only if all checks passed. */
  stream(): Readable;
  /** Releases the source when `stream()` will not be read to its end. */
  close(): void;
}

type Resolved =
  | { readonly kind: 'file'; readonly path: string; readonly entry: CatalogEntry | null }
  | { readonly kind: 'url'; readonly url: string; readonly entry: CatalogEntry | null };

async function resolve(ref: string, options: OpenImageOptions): Promise<Resolved> {
  if (isHttpUrl(ref)) return { kind: 'url', url: ref, entry: null };
  if (await stat(ref).then((info) => info.isFile() || info.isBlockDevice(), () => false)) return { kind: 'file', path: ref, entry: null };
  const entry = (await options.findCatalogEntry?.(ref)) ?? null;
  if (entry) return isHttpUrl(entry.url) ? { kind: 'url', url: entry.url, entry } : { kind: 'file', path: entry.url, entry };
  throw CardsmithError.keyed('bad-input', 'source.unknown', { ref }, { ref }, { hint: message('source.catalogHint') });
}

/** Opens a source by path, URL or catalog id. */
export async function openImage(ref: string, options: OpenImageOptions = {}): Promise<OpenedImage> {
  const resolved = await resolve(ref, options);
  const entry = resolved.entry;
  const expected = {
    sourceSha256: (options.expectedSha256 ?? entry?.sha256 ?? null)?.toLowerCase() ?? null,
    imageSha256: (options.expectedImageSha256 ?? entry?.extractSha256 ?? null)?.toLowerCase() ?? null,
  };
  const bmapFromUrl = options.bmapPath
    ? readBmap(await readBmapText(options.bmapPath), options.bmapPath, options)
    : entry?.bmapUrl
      ? readBmap(await getText(entry.bmapUrl, { signal: options.signal, retry: options.retry }), entry.bmapUrl, options)
      : null;
  if (resolved.kind === 'file') return openLocal(resolved.path, expected, bmapFromUrl, options, true);

  const cache = options.cache ?? new DownloadCache();
  const cached = expected.sourceSha256 ? await cache.get(expected.sourceSha256) : null;
  if (cached) return openLocal(cached.path, { ...expected, sourceSha256: null }, bmapFromUrl, options, false, resolved.url);

  const tee = new PassThrough({ highWaterMark: 1 << 20 });
  const downloaded = download(resolved.url, { cache, expectedSha256: expected.sourceSha256, ctx: options.ctx, signal: options.signal, retry: options.retry, tee });
  downloaded.catch(() => undefined);
  const { head, rest } = await peek(tee, MAGIC_BYTES);
  const format = detectFormat(head);
  if (format === 'zip') {
    // A zip's directory is at its end: the whole archive must be here before it can be read.
    rest.resume();
    const object = await downloaded;
    return openLocal(object.path, { ...expected, sourceSha256: null }, bmapFromUrl, options, false, resolved.url);
  }
  const info: ImageInfo = {
    path: resolved.url,
    compression: format,
    sizeBytes: entry?.extractSize ?? null,
    sizeIsEstimate: true,
    hasBmap: bmapFromUrl !== null,
  };
  return {
    info,
    minSizeBytes: 0,
    bmap: bmapFromUrl,
    expected,
    stream: () => bmapSized(decodeChecked(rest, format, expected.imageSha256), resolved.url, bmapFromUrl),
    close: () => rest.destroy(),
  };
}

async function openLocal(
  path: string,
  expected: OpenedImage['expected'],
  bmapFromUrl: Bmap | null,
  options: OpenImageOptions,
  lookForSidecar: boolean,
  shownAs: string = path,
): Promise<OpenedImage> {
  const file = await open(path, 'r').catch((error: unknown) => Promise.reject(classifyOsError(error, { kind: 'file', path, action: 'opening' })));
  let format: Compression;
  let probe;
  try {
    const { size } = await file.stat();
    const head = Buffer.alloc(Math.min(64 * 1024, size));
    await file.read(head, 0, head.length, 0);
    format = detectFormat(head);
    probe = format === 'zip' ? null : await probeSize(format, file, size, head);
  } finally {
    await file.close();
  }
  const sidecar = bmapFromUrl ?? (lookForSidecar ? await readSidecarBmap(path, options) : null);
  if (format === 'zip') {
    const zip = await openZipImage(path, options.zipEntry);
    const bmap = sidecar ?? (zip.bmapXml ? readBmap(zip.bmapXml, `${path} (its .bmap entry)`, options) : null);
    let consumed = false;
    return {
      info: { path: shownAs, compression: 'zip', sizeBytes: zip.uncompressedSize, sizeIsEstimate: false, hasBmap: bmap !== null },
      minSizeBytes: zip.uncompressedSize,
      bmap,
      expected,
      stream() {
        consumed = true;
        const out = new PassThrough({ highWaterMark: 1 << 20 });
        const raw = hashChecked(createReadStream(path, { highWaterMark: 1 << 20 }), expected.sourceSha256, path);
        // The archive bytes are checked (when a hash is known) alongside reading the entry.
        raw.resume();
        const archiveOk = new Promise<void>((ok, fail) => {
          raw.once('end', ok);
          raw.once('error', fail);
        });
        zip.open().then(
          (entryStream) => {
            const decoded = sniffAndDecode(entryStream);
            decoded.on('error', (error) => out.destroy(error));
            decoded.pipe(out, { end: false });
            decoded.once('end', () => archiveOk.then(() => out.end(), (error: unknown) => out.destroy(error as Error)));
          },
          (error: unknown) => out.destroy(error as Error),
        );
        return bmapSized(imageHashChecked(out, expected.imageSha256), shownAs, bmap);
      },
      close: () => {
        if (!consumed) zip.close();
      },
    };
  }
  // Exact sizes (raw, xz index) are held to the bmap at once; the others when decoding ends.
  if (sidecar && !probe!.sizeIsEstimate && probe!.sizeBytes !== null && probe!.sizeBytes !== sidecar.imageSize) {
    throw bmapSizeMismatch(shownAs, probe!.sizeBytes, sidecar);
  }
  const raw = (): Readable => hashChecked(createReadStream(path, { highWaterMark: 1 << 20 }), expected.sourceSha256, path);
  return {
    info: { path: shownAs, compression: format, sizeBytes: probe!.sizeBytes, sizeIsEstimate: probe!.sizeIsEstimate, hasBmap: sidecar !== null },
    minSizeBytes: probe!.minBytes,
    bmap: sidecar,
    expected,
    // Without a source hash to check on the way, the decoder reads the file itself (faster for tools).
    stream: () =>
      bmapSized(
        expected.sourceSha256
          ? decodeChecked(raw(), format as StreamCompression, expected.imageSha256)
          : imageHashChecked(decompressFile(format as StreamCompression, path), expected.imageSha256),
        shownAs,
        sidecar,
      ),
    close: () => undefined,
  };
}

/**
 * The bmap beside an image, first found of (for `card.img.xz`): `card.img.xz.bmap`,
 * `card.img.bmap`, `card.bmap` — bmaptool's names, and the last is what `cardsmith build -o
 * card.img --bmap card.bmap` writes.
 */
function sidecarBmapNames(path: string): string[] {
  const uncompressed = path.replace(/\.(gz|xz|zst|bz2|zip)$/i, '');
  const stem = uncompressed.replace(/\.(img|raw|bin|iso)$/i, '');
  return [...new Set([path, uncompressed, stem].map((name) => `${name}.bmap`))];
}

async function readBmapText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch((error: unknown) => {
    throw classifyOsError(error, { kind: 'file', path });
  });
}

async function readSidecarBmap(path: string, options: OpenImageOptions): Promise<Bmap | null> {
  const candidates = sidecarBmapNames(path);
  for (const candidate of candidates) {
    const xml = await readFile(candidate, 'utf8').catch(() => null);
    if (xml !== null) return readBmap(xml, candidate, options);
  }
  return null;
}

/** Parses a bmap, naming where it came from when it is refused and saying so when it was signed. */
export function readBmap(text: string, where: string, options: Pick<OpenImageOptions, 'ctx'> = {}): Bmap {
  let bmap: Bmap;
  try {
    bmap = parseBmap(text);
  } catch (error) {
    if (!(error instanceof CardsmithError)) throw error;
    throw CardsmithError.fromInfo({ ...error.info, message: `${where}: ${error.info.message}`, details: { ...error.info.details, bmap: where } });
  }
  if (bmap.signed) options.ctx?.log('info', `the block map ${where} is clear-signed; its OpenPGP signature is not verified, only its own checksums`);
  return bmap;
}

function decodeChecked(raw: Readable, format: StreamCompression, imageSha256: string | null): Readable {
  const decoder = createDecompressor(format);
  raw.on('error', (error) => decoder.destroy(error));
  return imageHashChecked(raw.pipe(decoder), imageSha256);
}

/** Zip entries may themselves be compressed (image.img.xz inside a zip). */
function sniffAndDecode(stream: Readable): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  peek(stream, MAGIC_BYTES).then(
    ({ head, rest }) => {
      const format = detectFormat(head);
      const decoded = format === 'zip' ? rest : decodeChecked(rest, format, null);
      decoded.on('error', (error) => out.destroy(error));
      decoded.pipe(out);
    },
    (error: unknown) => out.destroy(error as Error),
  );
  return out;
}

/** Passes bytes through and fails at the end if their sha256 is not `expected`. */
function hashChecked(source: Readable, expected: string | null, what: string): Readable {
  if (!expected) return source;
  const hash = createHash('sha256');
  const check = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      const actual = hash.digest('hex');
      if (actual === expected) callback();
      else callback(CardsmithError.keyed('checksum-mismatch', 'source.checksum', { name: basename(what) }, { path: what, expected, actual }));
    },
  });
  source.on('error', (error) => check.destroy(error));
  return source.pipe(check);
}

/**
 * The one message, whatever the codec, for an image that decodes to another size than its bmap's
 * ImageSize: the image was cut short (or grew), or the bmap describes another image.
 */
export function bmapSizeMismatch(path: string, decodedBytes: number, bmap: Bmap): CardsmithError {
  return CardsmithError.keyed(
    'bad-input',
    'source.bmapSize',
    { path, decodedBytes, bmapBytes: bmap.imageSize },
    { path, imageSize: decodedBytes, bmapImageSize: bmap.imageSize },
    { hint: message('source.bmapSizeHint') },
  );
}

/** Passes the decoded image through and fails at its end if its size is not the bmap's ImageSize. */
function bmapSized(decoded: Readable, path: string, bmap: Bmap | null): Readable {
  if (!bmap) return decoded;
  let count = 0;
  const check = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _encoding, callback) {
      count += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      callback(count === bmap.imageSize ? null : bmapSizeMismatch(path, count, bmap));
    },
  });
  decoded.on('error', (error) => check.destroy(error));
  return decoded.pipe(check);
}

/**
 * A pull reader held to its bmap's ImageSize: ending before it, or going on past it, is the size
 * mismatch (the rest is read to name the decoded size).
 */
export function bmapSizedReader(reader: PullReader, path: string, bmap: Bmap): PullReader {
  let position = 0;
  const ended = async (): Promise<never> => {
    throw bmapSizeMismatch(path, position, bmap);
  };
  return {
    async read(target) {
      const got = await reader.read(target);
      position += got;
      if (position > bmap.imageSize) {
        position += await reader.skip(Number.MAX_SAFE_INTEGER);
        return ended();
      }
      // Fewer bytes than asked for only at the end of the image.
      if (got < target.length && position < bmap.imageSize) return ended();
      return got;
    },
    async skip(length) {
      const skipped = await reader.skip(length);
      position += skipped;
      if (skipped < length && position < bmap.imageSize) return ended();
      return skipped;
    },
    close: () => reader.close(),
  };
}

function imageHashChecked(decoded: Readable, expected: string | null): Readable {
  if (!expected) return decoded;
  return hashChecked(decoded, expected, 'The decompressed image');
}

/** Reads at least `count` bytes (unless the stream is shorter) and gives back a stream of all of it. */
export async function peek(stream: Readable, count: number): Promise<{ head: Buffer; rest: Readable }> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const taken: Buffer[] = [];
  let length = 0;
  while (length < count) {
    const next = await iterator.next();
    if (next.done) break;
    taken.push(next.value);
    length += next.value.length;
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield* taken;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const rest = Readable.from(all(), { objectMode: false, highWaterMark: 1 << 20 });
  rest.once('close', () => {
    if (!rest.readableEnded) void iterator.return?.();
  });
  return { head: Buffer.concat(taken).subarray(0, count), rest };
}
