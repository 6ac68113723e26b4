/**
 * Windows: the system calls Node cannot make, behind one small interface, loaded on Windows only
 * and only when a card is opened. The native module is @ronomon/direct-io (the module etcher-sdk
 * uses for the same calls): FSCTL_LOCK_VOLUME and the disk's logical sector size. It has no
 * FSCTL_DISMOUNT_VOLUME or IOCTL_DISK_UPDATE_PROPERTIES; those report 'unsupported' and the
 * executor logs that they were skipped (the lock alone lets Windows accept the raw writes; the
 * partition table is re-read when the card is reinserted). See docs/flash.md.
 */
import { CardsmithError } from '../../errors';
import type { Ioctl } from './plan';

export interface Win32DiskIo {
  ioctl(fd: number, code: Ioctl): Promise<'done' | 'unsupported'>;
  /** The logical sector size unbuffered transfers must be multiples of. */
  sectorSize(fd: number): Promise<number>;
}

/** The part of @ronomon/direct-io's API used here (its README). */
interface DirectIo {
  setFSCTL_LOCK_VOLUME(fd: number, value: 0 | 1, callback: (error?: Error | null) => void): void;
  getBlockDevice(fd: number, callback: (error: Error | null | undefined, device: { logicalSectorSize: number }) => void): void;
}

const MODULE = '@ronomon/direct-io';

let loaded: Promise<Win32DiskIo> | null = null;

export function loadWin32DiskIo(): Promise<Win32DiskIo> {
  loaded ??= (async () => {
    if (process.platform !== 'win32') throw new CardsmithError('internal', `${MODULE} is loaded on Windows only`);
    let native: DirectIo;
    try {
      native = (await import(MODULE)) as DirectIo;
    } catch (error) {
      throw CardsmithError.keyed('not-implemented', 'device.noLockModule', { module: MODULE, said: (error as Error).message }, { module: MODULE });
    }
    return win32DiskIo(native);
  })();
  return loaded;
}

export function win32DiskIo(native: DirectIo): Win32DiskIo {
  return {
    ioctl: (fd, code) =>
      code === 'FSCTL_LOCK_VOLUME'
        ? new Promise((resolve, reject) => native.setFSCTL_LOCK_VOLUME(fd, 1, (error) => (error ? reject(error) : resolve('done'))))
        : Promise.resolve('unsupported'),
    sectorSize: (fd) =>
      new Promise((resolve, reject) => native.getBlockDevice(fd, (error, device) => (error ? reject(error) : resolve(device.logicalSectorSize)))),
  };
}
