/**
 * Reading an image file or a block device by byte offset, and finding its size (a block device
 * stats as 0 bytes, so its size is found by probing the last readable sector). A card opened with
 * O_DIRECT is read through `cardReader`, so a readback reads the card and not the page cache.
 */
import { stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { ReadAt } from '../disk/read-layout';
import { alignedBuffers, alignUp } from '../flash/aligned';
import type { TargetDevice } from '../flash/device';

const WASM_PAGE = 65536;

export function readerOf(handle: FileHandle): ReadAt {
  return async (offset, length) => {
    const buffer = new Uint8Array(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  };
}

/** Reads the card at any offset and length through its descriptor (block-aligned for O_DIRECT). */
export function cardReader(target: TargetDevice): ReadAt {
  return async (offset, length) => {
    const start = Math.floor(offset / target.blockSize) * target.blockSize;
    const size = alignUp(offset + length - start, target.blockSize);
    const buffer = alignedBuffers(1, alignUp(Math.max(size, 1), WASM_PAGE))[0] as Buffer;
    const got = await target.read(buffer.subarray(0, size), start);
    const from = offset - start;
    return new Uint8Array(buffer.buffer, buffer.byteOffset + from, Math.max(0, Math.min(got - from, length)));
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

