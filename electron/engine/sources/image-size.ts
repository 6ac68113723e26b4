/**
 * The decompressed size of an image, read from its container without decoding.
 *
 * raw: the file size. xz: exact, from the index (see xz-index.ts). gzip: only the low 32 bits
 * (ISIZE trailer of the last member), so images over 4 GiB are guessed as the smallest ISIZE +
 * k·2³² not below the compressed size, and a multi-member file reports only its last member — an
 * estimate either way. zstd: the first frame's Frame_Content_Size when the header has one
 * (multi-frame files hold more, so an estimate). bz2: unknown. zip: the entry header (zip-image.ts).
 *
 * Beside the estimate, `minBytes` is a size the image certainly reaches, so a card smaller than it
 * can be refused before it is touched: the gzip ISIZE itself (the true size is ISIZE + k·2³² for
 * the last member alone) and the zstd first frame's content size.
 */
import type { FileHandle } from 'node:fs/promises';
import type { StreamCompression } from './decompress';
import { readXzLayout, type XzLayout } from './xz-index';

export interface SizeProbe {
  readonly sizeBytes: number | null;
  readonly sizeIsEstimate: boolean;
  /** The decompressed image has at least this many bytes (0 when nothing is certain). */
  readonly minBytes: number;
  /** Block layout of an .xz file, for parallel decoding. */
  readonly xz?: XzLayout;
}

const TWO_32 = 2 ** 32;

export function gzipSizeFromTrailer(isize: number, compressedSize: number): number {
  let size = isize;
  while (size < compressedSize) size += TWO_32;
  return size;
}

/** Frame_Content_Size of a zstd frame header, or null when the frame does not declare it. */
export function zstdFrameContentSize(head: Uint8Array): number | null {
  if (head.length < 6) return null;
  const descriptor = head[4]!;
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const dictFlag = descriptor & 3;
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  if (fcsBytes === 0) return null;
  const position = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictFlag]!;
  if (head.length < position + fcsBytes) return null;
  let value = 0;
  for (let i = fcsBytes - 1; i >= 0; i--) value = value * 256 + head[position + i]!;
  return fcsBytes === 2 ? value + 256 : value;
}

export async function probeSize(format: StreamCompression, file: FileHandle, fileSize: number, head: Uint8Array): Promise<SizeProbe> {
  const readAt = async (position: number, length: number): Promise<Uint8Array> => {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await file.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  };
  switch (format) {
    case 'none':
      return { sizeBytes: fileSize, sizeIsEstimate: false, minBytes: fileSize };
    case 'gz': {
      if (fileSize < 18) return { sizeBytes: null, sizeIsEstimate: true, minBytes: 0 };
      const trailer = await readAt(fileSize - 4, 4);
      const isize = new DataView(trailer.buffer, trailer.byteOffset, 4).getUint32(0, true);
      return { sizeBytes: gzipSizeFromTrailer(isize, fileSize), sizeIsEstimate: true, minBytes: isize };
    }
    case 'xz': {
      const layout = await readXzLayout(fileSize, readAt);
      if (!layout) return { sizeBytes: null, sizeIsEstimate: true, minBytes: 0 };
      return { sizeBytes: layout.uncompressedSize, sizeIsEstimate: false, minBytes: layout.uncompressedSize, xz: layout };
    }
    case 'zst': {
      const frame = zstdFrameContentSize(head);
      return { sizeBytes: frame, sizeIsEstimate: true, minBytes: frame ?? 0 };
    }
    case 'bz2':
      return { sizeBytes: null, sizeIsEstimate: true, minBytes: 0 };
  }
}
