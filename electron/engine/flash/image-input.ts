/**
 * What the writer and verifier read an image through: sequential bytes of the decompressed image
 * read into the caller's aligned buffers (or skipped over holes), its size when known and its
 * block map. Every source — file, URL, catalog id, any compression, zip — is opened by the sources
 * module (open-image.ts), whose stream ends without error only when decoding and every known
 * checksum succeeded, so the writer reads each stream to its very end. A local file with no
 * published hash takes a shorter path (direct-reader.ts).
 *
 * A block map's per-range checksums are checked here, on whichever path: the bytes of each mapped
 * range are hashed in image order as they are read (or read instead of skipped, should a caller
 * skip into one), and the read that completes a range with the wrong checksum throws instead of
 * returning its bytes. The writer then stops and zeroes the card's first MiB, as for any source error.
 */
import { createHash, type Hash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { rangeBytes, type Bmap, type BmapChecksumType } from '../sources/bmap';
import type { Compression } from '../sources/model';
import { directFileReader } from '../sources/direct-reader';
import { streamReader, type PullReader } from '../sources/pull-reader';
import { bmapSizedReader, readBmap } from '../sources/open-image';
import { openImageRef } from '../sources/source-operations';
import { CardsmithError } from '../errors';
import type { JobContext } from '../job';
import { message } from '../messages';
import { tooSmall, type ByteRange } from './plan';

export interface ImageInput extends PullReader {
  readonly path: string;
  readonly compression: Compression;
  /** Decompressed size, or null when only the end of the stream will tell. */
  readonly sizeBytes: number | null;
  /** Bytes the image certainly has even when its size is only estimated (a gzip trailer's ISIZE). */
  readonly minSizeBytes: number;
  readonly bmap: Bmap | null;
  /** A local uncompressed file with no published hash: reading it again is cheap and decodes nothing. */
  readonly rereadable: boolean;
  /** Reads to the end of the source, so its checks run; fails if bytes remain past `position`. */
  finish(position: number): Promise<void>;
  /**
   * Instead of `read`: the next `want` bytes in a page-aligned CHUNK_BYTES buffer the input owns,
   * lent until `release` (fan-out.ts). Null: this input has no buffer to lend now, use `read`.
   */
  lend?(want: number): Promise<Lent | null>;
}

export interface Lent {
  readonly buffer: Buffer;
  /** Bytes of the image at the start of `buffer` (fewer than asked only at the image's end). */
  readonly got: number;
  release(): void;
}

function tooLong(path: string, position: number): CardsmithError {
  return CardsmithError.keyed('source-corrupt', 'flash.imageTooLong', { path, offset: position }, { path, offset: position });
}

function imageInput(source: PullReader, about: Pick<ImageInput, 'path' | 'compression' | 'sizeBytes' | 'minSizeBytes' | 'bmap' | 'rereadable'>): ImageInput {
  const probe = new Uint8Array(1);
  const reader = about.bmap ? rangeChecked(source, about.bmap, about.path) : source;
  return {
    ...about,
    read: (target) => reader.read(target),
    skip: (length) => reader.skip(length),
    close: () => reader.close(),
    async finish(position) {
      if ((await reader.read(probe)) !== 0) throw tooLong(about.path, position);
    },
  };
}

interface CheckedRange {
  /** Position in the block map, counted from 1. */
  readonly number: number;
  readonly start: number;
  readonly end: number;
  readonly checksum: string;
}

function rangeCorrupt(path: string, range: CheckedRange, actual: string): CardsmithError {
  return CardsmithError.keyed(
    'source-corrupt',
    'flash.rangeChecksum',
    { path, range: range.number, start: range.start, end: range.end - 1, actual, expected: range.checksum ?? '' },
    { path, range: range.number, start: range.start, end: range.end, expected: range.checksum, actual },
  );
}

/** `source` with each checksummed range of `bmap` hashed as its bytes pass and checked as it completes. */
function rangeChecked(source: PullReader, bmap: Bmap, path: string): PullReader {
  const type = bmap.checksumType as BmapChecksumType;
  const ranges: CheckedRange[] = bmap.ranges.flatMap((range, index) =>
    range.checksum === undefined ? [] : [{ number: index + 1, ...rangeBytes(bmap, range), checksum: range.checksum }],
  );
  if (ranges.length === 0) return source;
  let position = 0;
  let next = 0;
  let hash: Hash | null = null;
  let scratch: Uint8Array | null = null;

  /** Hashes the bytes read at [position, position + bytes.length); throws when they complete a wrong range. */
  const pass = (bytes: Uint8Array): void => {
    const end = position + bytes.length;
    while (next < ranges.length) {
      const range = ranges[next] as CheckedRange;
      if (range.start >= end) break;
      const from = Math.max(range.start, position);
      const to = Math.min(range.end, end);
      hash ??= createHash(type);
      if (from < to) hash.update(bytes.subarray(from - position, to - position));
      if (to < range.end) break;
      const actual = hash.digest('hex');
      hash = null;
      if (actual !== range.checksum) throw rangeCorrupt(path, range, actual);
      next += 1;
    }
    position = end;
  };
  const read = async (target: Uint8Array): Promise<number> => {
    const got = await source.read(target);
    pass(target.subarray(0, got));
    return got;
  };
  return {
    read,
    async skip(length) {
      let done = 0;
      while (done < length) {
        const range = ranges[next];
        const gap = range ? range.start - position : Infinity;
        const step = gap > 0 ? Math.min(gap, length - done) : Math.min(length - done, 1 << 20);
        // Mapped bytes with a checksum are read, not skipped: their range could not be checked otherwise.
        const got = gap > 0 ? await source.skip(step) : await read((scratch ??= new Uint8Array(1 << 20)).subarray(0, step));
        if (gap > 0) position += got;
        done += got;
        if (got < step) break;
      }
      return done;
    },
    close: () => source.close(),
  };
}

/**
 * Refuses, before the card is touched, a card smaller than the image certainly is. A size that is
 * only a lower bound comes from a trailer (gzip's ISIZE), which in a cut-short file is arbitrary
 * bytes: the message says so rather than blaming the card alone.
 */
export function refuseSmallCard(input: ImageInput, deviceBytes: number, device: string): void {
  if (input.sizeBytes !== null && input.sizeBytes > deviceBytes) throw tooSmall(input.sizeBytes, deviceBytes, device);
  if (input.minSizeBytes <= deviceBytes) return;
  throw CardsmithError.keyed(
    'too-small',
    'flash.tooSmallHeader',
    { imageBytes: input.minSizeBytes, compression: input.compression, device, deviceBytes },
    { imageBytes: input.minSizeBytes, deviceBytes, device },
    { hint: message('flash.tooSmallHeaderHint') },
  );
}

export async function readBmapFile(path: string): Promise<Bmap> {
  return readBmap(await readFile(path, 'utf8'), path);
}

/** Mapped byte ranges of a bmap, in image order. */
export function bmapRanges(bmap: Bmap): ByteRange[] {
  return bmap.ranges.map((range) => rangeBytes(bmap, range));
}

async function isLocalFile(ref: string): Promise<boolean> {
  return stat(ref).then((info) => info.isFile(), () => false);
}

/** Opens any image reference (path, URL, catalog id) for sequential reading. */
export async function openImageInput(ref: string, ctx: JobContext, options: { readonly bmapPath?: string } = {}): Promise<ImageInput> {
  const opened = await openImageRef(ref, ctx, options);
  const bmap = opened.bmap;
  const checked = opened.expected.sourceSha256 !== null || opened.expected.imageSha256 !== null;
  const direct = checked || !(await isLocalFile(ref)) ? null : await directFileReader(ref, opened.info.compression);
  const size = opened.info.sizeIsEstimate ? (bmap?.imageSize ?? null) : opened.info.sizeBytes;
  const minSizeBytes = opened.minSizeBytes;
  if (!direct) return imageInput(streamReader(opened.stream()), { path: opened.info.path, compression: opened.info.compression, sizeBytes: size, minSizeBytes, bmap, rereadable: false });
  opened.close();
  const rereadable = opened.info.compression === 'none';
  return imageInput(bmap ? bmapSizedReader(direct, ref, bmap) : direct, { path: ref, compression: opened.info.compression, sizeBytes: direct.sizeBytes ?? size, minSizeBytes, bmap, rereadable });
}
