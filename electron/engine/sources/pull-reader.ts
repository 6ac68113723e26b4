/**
 * Pull readers: the decompressed bytes of an image read straight into the caller's buffers.
 *
 * The writer fills page-aligned 4 MiB buffers; a reader that decodes into them directly saves the
 * copy and the per-chunk allocations a Node stream makes (see zstd-reader.ts for what that costs).
 * A Node stream (URLs, checksummed sources, zip, every codec) still works through `streamReader`.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ByteReader } from './byte-reader';
import { CardsmithError } from '../errors';

export interface PullReader {
  /**
   * Fills `target` from the current position; fewer bytes only at the end of the image, 0 once it
   * is over. A reader that checks its source (decoding, checksums) returns its last bytes only
   * after the check passed and throws source-corrupt or checksum-mismatch otherwise.
   */
  read(target: Uint8Array): Promise<number>;
  /** Moves past `length` bytes; returns how many there were. */
  skip(length: number): Promise<number>;
  close(): Promise<void>;
}

/** Decoded bytes thrown away per step when a decoding reader skips. */
const SKIP_BYTES = 1 << 20;

/** Skips `length` bytes of a reader that can only decode its way past them; returns how many there were. */
export async function skipByReading(read: (target: Uint8Array) => Promise<number>, length: number): Promise<number> {
  const scratch = new Uint8Array(Math.min(SKIP_BYTES, Math.max(length, 1)));
  let skipped = 0;
  while (skipped < length) {
    const got = await read(scratch.subarray(0, Math.min(scratch.length, length - skipped)));
    if (got === 0) break;
    skipped += got;
  }
  return skipped;
}

export function cannotOpen(path: string, error: unknown): CardsmithError {
  return CardsmithError.keyed('permission', 'source.cannotOpen', { path, said: (error as Error).message }, { path });
}

/** A plain file: positional reads, holes skipped without reading. */
export async function rawFileReader(path: string): Promise<PullReader & { readonly sizeBytes: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw cannotOpen(path, error);
  }
  const sizeBytes = (await handle.stat()).size;
  let position = 0;
  return {
    sizeBytes,
    async read(target) {
      let filled = 0;
      while (filled < target.length) {
        const { bytesRead } = await handle.read(target, filled, target.length - filled, position);
        if (bytesRead === 0) break;
        filled += bytesRead;
        position += bytesRead;
      }
      return filled;
    },
    async skip(length) {
      const skipped = Math.max(0, Math.min(length, sizeBytes - position));
      position += skipped;
      return skipped;
    },
    close: () => handle.close(),
  };
}

/** Any Node stream of image bytes; each read copies from the stream's chunks. */
export function streamReader(stream: Readable): PullReader {
  const reader = new ByteReader(stream);
  return {
    async read(target) {
      let filled = 0;
      while (filled < target.length) {
        const part = await reader.readSome(target.length - filled);
        if (part === null) break;
        target.set(part, filled);
        filled += part.length;
      }
      return filled;
    },
    skip: (length) => reader.skip(length),
    close: () => reader.close(),
  };
}
