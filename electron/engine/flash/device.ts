/**
 * The card as a file descriptor. On Linux it is opened O_EXCL (the kernel refuses while anything
 * holds the device, e.g. a mounted partition) and O_DIRECT (bypassing the page cache, so writes
 * reach the card and a readback reads the card, not memory). OS error codes become classified
 * CardsmithErrors carrying the byte offset where they happened.
 */
import { close, constants, fsync, open, read, readFileSync, write } from 'node:fs';
import { promisify } from 'node:util';
import { deviceKeyOfFd } from '../drives/identity';
import { classifyOsError, type CardsmithError } from '../errors';

const openAsync = promisify(open);
const closeAsync = promisify(close);
const fsyncAsync = promisify(fsync);

function writeAsync(fd: number, data: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, data, offset, length, position, (error, n) => (error ? reject(error) : resolve(n))));
}

function readAsync(fd: number, into: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, into, offset, length, position, (error, n) => (error ? reject(error) : resolve(n))));
}

export interface TargetDevice {
  readonly path: string;
  readonly fd: number;
  readonly direct: boolean;
  /** Transfers must be multiples of this (the logical block size; 1 without O_DIRECT). */
  readonly blockSize: number;
  write(data: Uint8Array, offset: number): Promise<void>;
  /** Reads into `into`; fewer bytes only at the end of the device. */
  read(into: Uint8Array, offset: number): Promise<number>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** Classifies an OS error raised while `action` ("writing", "reading") `device` at `offset`. */
export function deviceError(error: unknown, action: string, device: string, offset?: number, length?: number): CardsmithError {
  return classifyOsError(error, { kind: 'device', device, action, offset, length });
}

/** The logical block size sysfs gives for a device number (512 when it says nothing). */
export function logicalBlockSize(key: string): number {
  try {
    const value = Number(readFileSync(`/sys/dev/block/${key}/queue/logical_block_size`, 'utf8'));
    return Number.isInteger(value) && value >= 512 ? value : 512;
  } catch {
    return 512;
  }
}

export interface OpenOptions {
  readonly writable: boolean;
  /** Exclusive open: refused while a partition is mounted or the device is held (Linux). */
  readonly exclusive: boolean;
  readonly log: (message: string) => void;
}

export async function openTarget(path: string, options: OpenOptions): Promise<TargetDevice> {
  const base = (options.writable ? constants.O_RDWR : constants.O_RDONLY) | (options.exclusive ? constants.O_EXCL : 0);
  const directFlag = process.platform === 'linux' ? constants.O_DIRECT : 0;
  let direct = directFlag !== 0;
  let fd: number;
  try {
    fd = await openAsync(path, base | directFlag);
  } catch (error) {
    if ((error as { code?: string }).code !== 'EINVAL' || !direct) throw deviceError(error, 'opening', path);
    options.log(`${path} refuses O_DIRECT; falling back to buffered I/O with fsync`);
    direct = false;
    try {
      fd = await openAsync(path, base);
    } catch (retry) {
      throw deviceError(retry, 'opening', path);
    }
  }
  const key = deviceKeyOfFd(fd);
  return deviceOnFd(fd, path, direct, direct && key !== null ? logicalBlockSize(key) : direct ? 512 : 1);
}

/**
 * The card on a descriptor already open: this process opened it, or the elevated part did and
 * handed it over. `blockSize` is what transfers must be multiples of (1 without O_DIRECT).
 */
export function deviceOnFd(fd: number, path: string, direct: boolean, blockSize: number): TargetDevice {
  return {
    path,
    fd,
    direct,
    blockSize,
    async write(data, offset) {
      let done = 0;
      while (done < data.length) {
        try {
          const n = await writeAsync(fd, data, done, data.length - done, offset + done);
          if (n === 0) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
          done += n;
        } catch (error) {
          throw deviceError(error, 'writing', path, offset + done, data.length - done);
        }
      }
    },
    async read(into, offset) {
      let done = 0;
      while (done < into.length) {
        try {
          const n = await readAsync(fd, into, done, into.length - done, offset + done);
          if (n === 0) break;
          done += n;
        } catch (error) {
          throw deviceError(error, 'reading', path, offset + done, into.length - done);
        }
      }
      return done;
    },
    async sync() {
      try {
        await fsyncAsync(fd);
      } catch (error) {
        throw deviceError(error, 'flushing', path);
      }
    },
    close: () => closeAsync(fd),
  };
}
