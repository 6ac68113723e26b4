/** Reads `length` bytes at `offset` of a file or block device, for assertions on what was written. */
import { closeSync, openSync, readSync } from 'node:fs';

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
