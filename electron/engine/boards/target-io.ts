/**
 * Reading an image file or a block device by byte offset, and finding its size (a block device
 * stats as 0 bytes, so its size is found by probing the last readable sector).
 */
import { stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { ReadAt } from '../disk/read-layout';

export function readerOf(handle: FileHandle): ReadAt {
  return async (offset, length) => {
    const buffer = new Uint8Array(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  };
}

/** Size in bytes of an image file or block device (a block device stats as 0; seek instead). */
export async function targetSize(path: string, handle: FileHandle): Promise<{ size: number; isBlock: boolean }> {
  const info = await stat(path);
  if (!info.isBlockDevice()) return { size: info.size, isBlock: false };
  const probe = Buffer.alloc(1);
  let low = 0;
  let high = 1;
  while ((await handle.read(probe, 0, 1, high * 512 - 1)).bytesRead === 1) {
    low = high;
    high *= 2;
  }
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if ((await handle.read(probe, 0, 1, mid * 512 - 1)).bytesRead === 1) low = mid;
    else high = mid;
  }
  return { size: low * 512, isBlock: true };
}

