/**
 * What the writer and verifier read an image through: sequential bytes of the decompressed image
 * read into the caller's aligned buffers (or skipped over holes), its size when known and its
 * block map. Every source — file, URL, catalog id, any compression, zip — is opened by the sources
 * module (open-image.ts), whose stream ends without error only when decoding and every known
 * checksum succeeded, so the writer reads each stream to its very end. A local file with no
 * published hash takes a shorter path (direct-reader.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { parseBmap, rangeBytes, type Bmap } from '../sources/bmap';
import type { Compression } from '../sources/model';
import { directFileReader } from '../sources/direct-reader';
import { streamReader, type PullReader } from '../sources/pull-reader';
import { bmapSizedReader } from '../sources/open-image';
import { openImageRef } from '../sources/source-operations';
import { CardsmithError } from '../errors';
import type { JobContext } from '../job';
import type { ByteRange } from './plan';

export interface ImageInput extends PullReader {
  readonly path: string;
  readonly compression: Compression;
  /** Decompressed size, or null when only the end of the stream will tell. */
  readonly sizeBytes: number | null;
  readonly bmap: Bmap | null;
  /** Reads to the end of the source, so its checks run; fails if bytes remain past `position`. */
  finish(position: number): Promise<void>;
}

function tooLong(path: string, position: number): CardsmithError {
  return new CardsmithError('source-corrupt', `The image ${path} continues past byte ${position}, the size its header or block map declares`, { path, offset: position });
}

function imageInput(reader: PullReader, about: Pick<ImageInput, 'path' | 'compression' | 'sizeBytes' | 'bmap'>): ImageInput {
  const probe = new Uint8Array(1);
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

export async function readBmapFile(path: string): Promise<Bmap> {
  return parseBmap(await readFile(path, 'utf8'));
}

/** Mapped byte ranges of a bmap, in image order. */
export function bmapRanges(bmap: Bmap): ByteRange[] {
  return bmap.ranges.map((range) => rangeBytes(bmap, range));
}

async function isLocalFile(ref: string): Promise<boolean> {
  return stat(ref).then((info) => info.isFile(), () => false);
}

/** Opens any image reference (path, URL, catalog id) for sequential reading. */
export async function openImageInput(ref: string, ctx: JobContext): Promise<ImageInput> {
  const opened = await openImageRef(ref, ctx);
  const bmap = opened.bmap;
  const checked = opened.expected.sourceSha256 !== null || opened.expected.imageSha256 !== null;
  const direct = checked || !(await isLocalFile(ref)) ? null : await directFileReader(ref, opened.info.compression);
  const size = opened.info.sizeIsEstimate ? (bmap?.imageSize ?? null) : opened.info.sizeBytes;
  if (!direct) return imageInput(streamReader(opened.stream()), { path: opened.info.path, compression: opened.info.compression, sizeBytes: size, bmap });
  opened.close();
  return imageInput(bmap ? bmapSizedReader(direct, ref, bmap) : direct, { path: ref, compression: opened.info.compression, sizeBytes: direct.sizeBytes ?? size, bmap });
}
