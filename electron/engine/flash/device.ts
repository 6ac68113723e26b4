/**
 * The card as a file descriptor, opened by the steps of its OS's plan (platform/plan.ts): on
 * Linux O_EXCL (the kernel refuses while anything holds the device, e.g. a mounted partition)
 * and O_DIRECT (bypassing the page cache, so writes reach the card and a readback reads the
 * card, not memory); the raw node on macOS; unbuffered and write-through, its volumes locked,
 * on Windows. OS error codes become classified CardsmithErrors carrying the byte offset where
 * they happened.
 */
import { execFile } from 'node:child_process';
import { close, constants, fsync, open, read, readFileSync, write } from 'node:fs';
import { promisify } from 'node:util';
import { deviceKeyOfFd } from '../drives/identity';
import { CardsmithError, classifyOsError } from '../errors';
import {
  cardOs,
  darwinCardPlan,
  linuxCardPlan,
  macDisk,
  openFlagBits,
  parseDiskutilBlockSize,
  parseVolumePaths,
  posixFlagBits,
  WIN32_FLAG_BITS,
  win32CardPlan,
  windowsDiskNumber,
  windowsVolumeQuery,
  type BlockSizeSource,
  type CardMode,
  type CardOs,
  type CardPlan,
  type FlagBits,
  type Handle,
  type Ioctl,
  type Step,
} from './platform/plan';
import { loadWin32DiskIo } from './platform/win32-binding';

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
  /** Write: released and opened exclusively (per the OS's plan); read: opened shared. */
  readonly mode: CardMode;
  readonly log: (message: string) => void;
}

/** The calls a plan's steps make; the real ones below, a recording stand-in in unit tests. */
export interface PlatformIo {
  readonly flagBits: FlagBits;
  open(path: string, flags: number): Promise<number>;
  close(fd: number): Promise<void>;
  flush(fd: number): Promise<void>;
  /** 'unsupported' when the loaded native module cannot issue this control code. */
  ioctl(fd: number, code: Ioctl): Promise<'done' | 'unsupported'>;
  blockSize(fd: number, from: BlockSizeSource, device: string): Promise<number>;
}

/** Runs the open steps of a plan; the returned card's close() runs its close steps. */
export async function openWithPlan(plan: CardPlan, device: string, io: PlatformIo, log: (message: string) => void): Promise<TargetDevice> {
  const handles = new Map<Handle, number>();
  const fdOf = (handle: Handle): number => {
    const fd = handles.get(handle);
    if (fd === undefined) throw new CardsmithError('internal', `The ${handle} handle is used before it is opened`, { device });
    return fd;
  };
  let direct = false;
  let blockSize = 1;
  const closeAll = async (): Promise<void> => {
    for (const fd of [...handles.values()].reverse()) await io.close(fd).catch(() => undefined);
    handles.clear();
  };
  const run = async (step: Step): Promise<void> => {
    switch (step.call) {
      case 'open': {
        try {
          handles.set(step.handle, await io.open(step.path, openFlagBits(step.flags, io.flagBits)));
          if (step.handle === 'card') direct = step.uncached;
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code !== 'EINVAL' || step.fallback === undefined) throw deviceError(error, 'opening', step.path);
          log(`${step.path} refuses O_DIRECT; falling back to buffered I/O with fsync`);
          try {
            handles.set(step.handle, await io.open(step.path, openFlagBits(step.fallback, io.flagBits)));
          } catch (retry) {
            throw deviceError(retry, 'opening', step.path);
          }
          direct = false;
        }
        return;
      }
      case 'block-size':
        blockSize = direct ? await io.blockSize(fdOf('card'), step.from, device) : 1;
        return;
      case 'ioctl':
        return ioctlStep(step, fdOf(step.handle), io, log, device);
      case 'flush':
        return io.flush(fdOf(step.handle)).catch((error: unknown) => Promise.reject(deviceError(error, 'flushing', device)));
      case 'close': {
        const fd = handles.get(step.handle);
        handles.delete(step.handle);
        if (fd !== undefined) await io.close(fd);
        return;
      }
      default:
        throw new CardsmithError('internal', `A ${step.call} step cannot run while opening ${device}`, { device });
    }
  };
  try {
    for (const step of plan.open) await run(step);
  } catch (error) {
    await closeAll();
    throw error;
  }
  const target = deviceOnFd(fdOf('card'), device, direct, blockSize);
  return {
    ...target,
    async close() {
      try {
        for (const step of plan.close) await run(step);
      } finally {
        await closeAll();
      }
    },
  };
}

/** One control code, tried again while it fails (a volume in use); an unsupported lock is fatal. */
async function ioctlStep(step: Extract<Step, { call: 'ioctl' }>, fd: number, io: PlatformIo, log: (message: string) => void, device: string): Promise<void> {
  const where = step.handle === 'card' ? device : step.handle.slice('volume:'.length);
  for (let attempt = 1; ; attempt += 1) {
    let outcome: 'done' | 'unsupported';
    try {
      outcome = await io.ioctl(fd, step.code);
    } catch (error) {
      if (attempt < step.attempts) {
        await new Promise((resolve) => setTimeout(resolve, step.retryMs));
        continue;
      }
      throw CardsmithError.keyed(step.code === 'FSCTL_LOCK_VOLUME' ? 'busy' : 'io', 'device.volumeStep', { code: step.code, volume: where, attempts: attempt, said: (error as Error).message }, { device, volume: where });
    }
    if (outcome === 'done') return;
    if (step.code === 'FSCTL_LOCK_VOLUME') throw CardsmithError.keyed('not-implemented', 'device.noLock', { volume: where }, { device });
    log(`${step.code} is not available in the native module; skipped for ${step.handle}`);
    return;
  }
}

const runTool = promisify(execFile);

function realIo(os: CardOs): PlatformIo {
  return {
    flagBits: os === 'win32' ? WIN32_FLAG_BITS : posixFlagBits(constants),
    open: (path, flags) => openAsync(path, flags),
    close: (fd) => closeAsync(fd),
    flush: (fd) => fsyncAsync(fd),
    ioctl: async (fd, code) => (await loadWin32DiskIo()).ioctl(fd, code),
    async blockSize(fd, from, device) {
      switch (from) {
        case 'sysfs': {
          const key = deviceKeyOfFd(fd);
          return key !== null ? logicalBlockSize(key) : 512;
        }
        case 'diskutil': {
          const { stdout } = await runTool('diskutil', ['info', '-plist', macDisk(device).disk]);
          return parseDiskutilBlockSize(stdout);
        }
        case 'sector-size-ioctl':
          return (await loadWin32DiskIo()).sectorSize(fd);
      }
    },
  };
}

/** The plan for opening `device` on this OS (Windows: its volumes are listed first). */
export async function cardPlanFor(os: CardOs, device: string, mode: CardMode): Promise<CardPlan> {
  switch (os) {
    case 'linux':
      return linuxCardPlan(device, mode);
    case 'darwin':
      return darwinCardPlan(device, mode);
    case 'win32': {
      if (mode === 'read') return win32CardPlan(device, [], mode);
      const [tool, ...args] = windowsVolumeQuery(windowsDiskNumber(device));
      try {
        const { stdout } = await runTool(tool as string, args, { windowsHide: true });
        return win32CardPlan(device, parseVolumePaths(stdout), mode);
      } catch (error) {
        throw new CardsmithError('internal', `Could not list the volumes of ${device} with Get-Partition: ${(error as Error).message}`, { device });
      }
    }
  }
}

export async function openTarget(path: string, options: OpenOptions): Promise<TargetDevice> {
  const os = cardOs();
  return openWithPlan(await cardPlanFor(os, path, options.mode), path, realIo(os), options.log);
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
