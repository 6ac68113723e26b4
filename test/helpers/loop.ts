/**
 * Loop devices for tests: a backing file (sparse on disk, or RAM-backed in /dev/shm) attached
 * with `losetup`, offered to the code under test as if it were a card. Every device attached here
 * is detached by name in a finally block, whatever the test body does.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoopDevice {
  /** e.g. /dev/loop3 */
  readonly device: string;
  readonly backingFile: string;
  /** Partition device names (/dev/loop3p1 …) when attached with partition scanning. */
  partition(index: number): string;
}

export interface LoopOptions {
  readonly sizeBytes: number;
  /** Back the device with a file in /dev/shm (RAM) instead of the temp dir. */
  readonly ram?: boolean;
  /** Use this existing file instead of creating one (it is not removed afterwards). */
  readonly backingFile?: string;
  /** `losetup -P`: create partition devices for a partition table written later (see rescan). */
  readonly partscan?: boolean;
}

/** Creates a sparse file of `sizeBytes` (all zeros, no blocks allocated). */
export function createSparseFile(path: string, sizeBytes: number): void {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, sizeBytes);
  } finally {
    closeSync(fd);
  }
}

export function attachLoop(file: string, partscan = false): string {
  const args = ['--find', '--show', ...(partscan ? ['--partscan'] : []), file];
  return execFileSync('losetup', args, { encoding: 'utf8' }).trim();
}

export function detachLoop(device: string): void {
  execFileSync('losetup', ['--detach', device], { stdio: 'ignore' });
}

/**
 * Creates the partition devices (/dev/loopNp1 …) for the table a test just wrote. `losetup -P`
 * alone does not reliably do it on this kernel; `partx --add` does.
 */
export function rescanPartitions(device: string): void {
  // Drop partition devices of an earlier table first; partx fails when there are none.
  spawnSync('partx', ['--delete', device], { stdio: 'ignore' });
  execFileSync('partx', ['--add', device], { stdio: 'ignore' });
}

/** Attaches a fresh loop device, runs `body`, and always detaches it and removes its file. */
export async function withLoopDevice<T>(options: LoopOptions, body: (loop: LoopDevice) => Promise<T>): Promise<T> {
  const dir = options.backingFile ? null : mkdtempSync(join(options.ram ? '/dev/shm' : tmpdir(), 'cardsmith-loop-'));
  const backingFile = options.backingFile ?? join(dir as string, 'card.img');
  try {
    if (!options.backingFile) createSparseFile(backingFile, options.sizeBytes);
    const device = attachLoop(backingFile, options.partscan ?? false);
    try {
      return await body({ device, backingFile, partition: (index) => `${device}p${index}` });
    } finally {
      detachLoop(device);
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
