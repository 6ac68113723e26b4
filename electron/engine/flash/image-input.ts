/**
 * What the writer and verifier read an image through: sequential bytes of the decompressed image
 * (read into the caller's aligned buffer, or skipped over holes), its size when known and its
 * block map when one sits beside it. A raw file is read straight into the aligned buffers with
 * positional reads (skips cost nothing); a compressed file goes through the sources module's
 * decoders. Kept behind this interface so the sources module's open-image can replace
 * `openImageInput` without touching the pipeline.
 */
import { createReadStream, existsSync } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { parseBmap, rangeBytes, type Bmap } from '../sources/bmap';
import { ByteReader } from '../sources/byte-reader';
import { createDecompressor, detectFormat, MAGIC_BYTES } from '../sources/decompress';
import type { Compression } from '../sources/model';
import { CardsmithError } from '../errors';
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
  close(): Promise<void>;
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

  async close(): Promise<void> {
    await this.handle.close();
  }
}

class StreamInput implements ImageInput {
  readonly sizeBytes = null;

  constructor(
    readonly path: string,
    readonly compression: Compression,
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

  close(): Promise<void> {
    return this.reader.close();
  }
}

const COMPRESSED_SUFFIX = /\.(gz|xz|zst|bz2|zip)$/i;

/** The bmap beside an image: `card.img.bmap`, or `card.bmap` for `card.img` / `card.img.xz`. */
export function sidecarBmapPaths(imagePath: string): string[] {
  const plain = imagePath.replace(COMPRESSED_SUFFIX, '');
  return [...new Set([`${imagePath}.bmap`, `${plain}.bmap`, plain.replace(/\.[^./]+$/, '.bmap')])];
}

export async function readBmapFile(path: string): Promise<Bmap> {
  return parseBmap(await readFile(path, 'utf8'));
}

/** Mapped byte ranges of a bmap, in image order. */
export function bmapRanges(bmap: Bmap): ByteRange[] {
  return bmap.ranges.map((range) => rangeBytes(bmap, range));
}

export interface OpenImageOptions {
  /** Use this bmap instead of looking for one beside the image; null: ignore any bmap. */
  readonly bmapPath?: string | null;
}

export async function openImageInput(path: string, options: OpenImageOptions = {}): Promise<ImageInput> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    throw new CardsmithError('not-implemented', `Flashing from a URL (${path}) needs the sources module's open-image; fetch it first with \`cardsmith fetch\``);
  }
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new CardsmithError(code === 'ENOENT' ? 'bad-input' : 'permission', `Cannot open the image ${path}: ${(error as Error).message}`, { path, code });
  }
  try {
    const head = new Uint8Array(MAGIC_BYTES);
    await handle.read(head, 0, MAGIC_BYTES, 0);
    const format = detectFormat(head);
    const bmapPath = options.bmapPath === undefined ? sidecarBmapPaths(path).find((p) => existsSync(p)) : options.bmapPath;
    const bmap = bmapPath ? await readBmapFile(bmapPath) : null;
    if (format === 'none') {
      const size = (await handle.stat()).size;
      if (bmap && bmap.imageSize !== size) {
        throw new CardsmithError('bad-input', `The bmap ${bmapPath} describes a ${bmap.imageSize}-byte image but ${path} has ${size} bytes`, { path, bmapPath, imageSize: size, bmapImageSize: bmap.imageSize });
      }
      return new RawFileInput(path, handle, size, bmap);
    }
    await handle.close();
    if (format === 'zip') throw new CardsmithError('not-implemented', `${path} is a zip archive; flashing from zip needs the sources module's open-image`, { path });
    const decoder = createDecompressor(format);
    const compressed = createReadStream(path, { highWaterMark: 1 << 20 });
    compressed.on('error', (error) => decoder.destroy(error));
    compressed.pipe(decoder);
    return new StreamInput(path, format, new ByteReader(decoder), bmap);
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}
