/**
 * What the writer and verifier read an image through: sequential bytes of the decompressed image
 * (read into the caller's aligned buffer, or skipped over holes), its size when known and its
 * block map. Every source — file, URL, catalog id, any compression, zip — is opened by the sources
 * module (open-image.ts), whose stream ends without error only when decoding and every known
 * checksum succeeded, so the writer reads each stream to its very end. A plain local raw file with
 * no published hash takes a shorter path: positional reads straight into the aligned buffers, and
 * holes skipped without reading.
 */
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { parseBmap, rangeBytes, type Bmap } from '../sources/bmap';
import { ByteReader } from '../sources/byte-reader';
import type { Compression } from '../sources/model';
import { openImageRef } from '../sources/source-operations';
import { CardsmithError } from '../errors';
import type { JobContext } from '../job';
import type { ByteRange } from './plan';

export interface ImageInput {
  readonly path: string;
  readonly compression: Compression;
  /** Decompressed size, or null when only the end of the stream will tell. */
  readonly sizeBytes: number | null;
  readonly bmap: Bmap | null;
  /** Fills `target` from the current position; fewer bytes only at the end of the image. */
  read(target: Uint8Array): Promise<number>;
  /** Moves past `length` bytes; returns how many there were. */
  skip(length: number): Promise<number>;
  /** Reads to the end of the source, so its checks run; fails if bytes remain past `position`. */
  finish(position: number): Promise<void>;
  close(): Promise<void>;
}

function tooLong(path: string, position: number): CardsmithError {
  return new CardsmithError('source-corrupt', `The image ${path} continues past byte ${position}, the size its header or block map declares`, { path, offset: position });
}

class RawFileInput implements ImageInput {
  readonly compression = 'none';
  private position = 0;

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly sizeBytes: number,
    readonly bmap: Bmap | null,
  ) {}

  async read(target: Uint8Array): Promise<number> {
    let filled = 0;
    while (filled < target.length) {
      const { bytesRead } = await this.handle.read(target, filled, target.length - filled, this.position);
      if (bytesRead === 0) break;
      filled += bytesRead;
      this.position += bytesRead;
    }
    return filled;
  }

  async skip(length: number): Promise<number> {
    const skipped = Math.max(0, Math.min(length, this.sizeBytes - this.position));
    this.position += skipped;
    return skipped;
  }

  async finish(position: number): Promise<void> {
    if (this.sizeBytes > position) throw tooLong(this.path, position);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

class StreamInput implements ImageInput {
  constructor(
    readonly path: string,
    readonly compression: Compression,
    readonly sizeBytes: number | null,
    private readonly reader: ByteReader,
    readonly bmap: Bmap | null,
  ) {}

  async read(target: Uint8Array): Promise<number> {
    let filled = 0;
    while (filled < target.length) {
      const part = await this.reader.readSome(target.length - filled);
      if (part === null) break;
      target.set(part, filled);
      filled += part.length;
    }
    return filled;
  }

  skip(length: number): Promise<number> {
    return this.reader.skip(length);
  }

  async finish(position: number): Promise<void> {
    if ((await this.reader.readSome(1)) !== null) throw tooLong(this.path, position);
  }

  close(): Promise<void> {
    return this.reader.close();
  }
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
  if (opened.info.compression === 'none' && !checked && (await isLocalFile(ref))) {
    opened.close();
    let handle: FileHandle;
    try {
      handle = await open(ref, 'r');
    } catch (error) {
      throw new CardsmithError('permission', `Cannot open the image ${ref}: ${(error as Error).message}`, { path: ref });
    }
    const size = (await handle.stat()).size;
    if (bmap && bmap.imageSize !== size) {
      await handle.close();
      throw new CardsmithError('bad-input', `The bmap describes a ${bmap.imageSize}-byte image but ${ref} has ${size} bytes`, { path: ref, imageSize: size, bmapImageSize: bmap.imageSize });
    }
    return new RawFileInput(ref, handle, size, bmap);
  }
  const size = opened.info.sizeIsEstimate ? (bmap?.imageSize ?? null) : opened.info.sizeBytes;
  return new StreamInput(opened.info.path, opened.info.compression, size, new ByteReader(opened.stream()), bmap);
}
