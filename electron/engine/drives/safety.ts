/**
 * The writer's own safety check. Whoever asks for a write (GUI, CLI), the process that writes
 * scans the host again and refuses anything that is not a whole, safe, present block device —
 * trusting no drive list it was handed.
 */
import { statSync } from 'node:fs';
import { CardsmithError } from '../errors';
import { classifyDrive } from './classify';
import { macDisk, windowsDiskNumber } from '../flash/platform/plan';
import { deviceKeyOfPath } from './identity';
import { descendants, type BlockDevice } from './lsblk';
import type { Drive } from './model';
import { canonicalDevice, linuxHostFacts, runLsblk, scanDrives, type ScanOptions } from './scan';

export interface SafeTarget {
  readonly drive: Drive;
  /** The lsblk tree of the target (Linux only): its partitions, for unmounting. */
  readonly tree: BlockDevice | null;
  /** The device's number, "major:minor" (Linux), or its canonical path elsewhere. */
  readonly key: string;
}

/**
 * Finds the drive `device` names and applies the safety rules to it. On Linux the drive is found
 * by device number, so any spelling of its path (or a symlink to it) is the same drive, and a
 * partition is recognised as one whatever its name.
 */
export async function checkTarget(device: string, options: ScanOptions): Promise<SafeTarget> {
  if (process.platform === 'linux') return checkLinuxTarget(device, options);
  // Windows: \\.\PhysicalDriveN (any case) is a device-namespace name, not a file stat describes;
  // drivelist's list is the check. macOS: /dev/diskN must be a block device.
  const path = process.platform === 'win32' ? `\\\\.\\PhysicalDrive${windowsDiskNumber(device)}` : canonicalDevice(device);
  if (process.platform === 'darwin') {
    let isBlock: boolean;
    try {
      isBlock = statSync(path).isBlockDevice();
    } catch {
      throw new CardsmithError('device-gone', `${device} does not exist (was the card removed?)`, { device });
    }
    if (!isBlock) throw new CardsmithError('unsafe-target', `${device} is not a block device; only whole cards are written`, { device });
  }
  const drive = (await scanDrives({ ...options, all: true })).find((d) => d.device === path);
  if (!drive) throw new CardsmithError('device-gone', `${device} is not among the connected drives`, { device });
  assertSafe(drive);
  // macOS: the raw node the card is opened as, so the open descriptor can be checked against it.
  return { drive, tree: null, key: process.platform === 'darwin' ? deviceKeyOfPath(macDisk(path).raw) : path };
}

async function checkLinuxTarget(device: string, options: ScanOptions): Promise<SafeTarget> {
  const key = deviceKeyOfPath(device);
  const devices = await runLsblk();
  const top = devices.find((d) => d.majMin === key);
  if (!top) {
    const parent = devices.find((d) => descendants(d).some((child) => child.majMin === key));
    if (parent) {
      throw new CardsmithError('unsafe-target', `${device} is a partition of ${parent.path}; choose the whole card`, { device, disk: parent.path });
    }
    throw new CardsmithError('device-gone', `${device} is not among the connected drives`, { device });
  }
  const drive = classifyDrive(top, linuxHostFacts(options));
  assertSafe(drive);
  return { drive, tree: top, key };
}

function assertSafe(drive: Drive): void {
  if (drive.unsafeReasons.length > 0) {
    throw new CardsmithError('unsafe-target', `${drive.device} is not a safe target: ${drive.unsafeReasons.join('; ')}`, {
      device: drive.device,
      reasons: drive.unsafeReasons,
    });
  }
  if (drive.sizeBytes === null) throw new CardsmithError('unsafe-target', `${drive.device} has an unknown size`, { device: drive.device });
}
