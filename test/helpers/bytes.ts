/** Bytes of files and block devices for tests: reading and hashing what was written, making patterned data. */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import type { ReadAt } from '../../electron/engine/disk/read-layout';

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

/** Deterministic pseudo-random bytes (one LCG step per byte), so a misplaced cluster or block shows. */
export function seededBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A ReadAt over a file (an image under test), opened for each read; short at the end of the file. */
export function fileReadAt(path: string): ReadAt {
  return async (offset, length) => {
    const fd = openSync(path, 'r');
    try {
      const out = new Uint8Array(length);
      return out.subarray(0, readSync(fd, out, 0, length, offset));
    } finally {
      closeSync(fd);
    }
  };
}

/** Writes a pseudo-random image file (one LCG word per 4 bytes; `bytes` a multiple of 4) and returns its bytes. */
export function writePatternImage(path: string, bytes: number, seed = 1): Buffer {
  const data = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i += 4) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    data.writeUInt32LE(x, i);
  }
  writeFileSync(path, data);
  return data;
}

/** Overwrites the first `bytes` of a card (a loop device) with `byte`, so stale data is recognisable. */
export function fillStart(device: string, byte: number, bytes: number): void {
  const fd = openSync(device, 'r+');
  try {
    writeSync(fd, Buffer.alloc(bytes, byte), 0, bytes, 0);
  } finally {
    closeSync(fd);
  }
}
