/**
 * Reading an image file or a block device by byte offset, and finding its size (a block device
 * stats as 0 bytes, so its size is found by probing the last readable sector). A loader target
 * is either an image file this process opens, or a card reached through a CardAccess (checked,
 * released and opened with O_DIRECT, here or by the elevated part).
 */
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { isDevicePath } from '../api';
import type { ReadAt } from '../disk/read-layout';
import { CardsmithError } from '../errors';
import type { CardAccess } from '../flash/card';
import { cardReader, writePatchBody } from '../flash/patch';
import type { JobContext } from '../job';

export function readerOf(handle: FileHandle): ReadAt {
  return async (offset, length) => {
    const buffer = new Uint8Array(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  };
}

/** Reads the card at any offset and length through its descriptor (block-aligned for O_DIRECT). */

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


export interface LoaderTarget {
  readonly isImage: boolean;
  readonly size: number;
  readonly read: ReadAt;
  write(bytes: Uint8Array, offset: number): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** Opens an image file in place, or the card a device path names, for loader writes. */
export async function openLoaderTarget(path: string, options: { allowLoop: boolean; access: CardAccess; ctx: JobContext }): Promise<LoaderTarget> {
  if (isDevicePath(path)) {
    const card = await options.access(path, { allowLoop: options.allowLoop });
    const device = await card.open('write', options.ctx);
    const size = card.info.sizeBytes;
    return {
      isImage: false,
      size,
      read: cardReader(device, size),
      write: (bytes, offset) => writePatchBody(device, offset, bytes),
      sync: () => device.sync(),
      close: () => device.close(),
    };
  }
  const info = await stat(path).catch(() => {
    throw CardsmithError.keyed('bad-input', 'file.missing', { path }, { path });
  });
  if (!info.isFile()) throw CardsmithError.keyed('bad-input', 'file.notImageOrDevice', { path }, { path });
  const handle = await open(path, 'r+');
  return {
    isImage: true,
    size: info.size,
    read: readerOf(handle),
    write: async (bytes, offset) => {
      await handle.write(bytes, 0, bytes.length, offset);
    },
    sync: () => handle.sync(),
    close: () => handle.close(),
  };
}
