/** Reads and hashes bytes of a file or block device, for assertions on what was written. */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

/** Reads `length` bytes at `offset`. */
export function readBytesAt(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const out = Buffer.alloc(length);
    readSync(fd, out, 0, length, offset);
    return out;
  } finally {
    closeSync(fd);
  }
}

/** sha256 of the first `length` bytes of a file or block device, read in 4 MiB pieces. */
export function sha256OfRange(path: string, length: number): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(4 * 1024 * 1024);
    for (let offset = 0; offset < length; ) {
      const read = readSync(fd, buffer, 0, Math.min(buffer.length, length - offset), offset);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
      offset += read;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
