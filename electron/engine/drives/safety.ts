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
      throw CardsmithError.keyed('device-gone', 'safety.missing', { device }, { device });
    }
    if (!isBlock) throw CardsmithError.keyed('unsafe-target', 'safety.notBlock', { device }, { device });
  }
  const drive = (await scanDrives({ ...options, all: true })).find((d) => d.device === path);
  if (!drive) throw CardsmithError.keyed('device-gone', 'safety.notConnected', { device }, { device });
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
      throw CardsmithError.keyed('unsafe-target', 'safety.partition', { device, disk: parent.path }, { device, disk: parent.path });
    }
    throw CardsmithError.keyed('device-gone', 'safety.notConnected', { device }, { device });
  }
  const drive = classifyDrive(top, linuxHostFacts(options));
  assertSafe(drive);
  return { drive, tree: top, key };
}

function assertSafe(drive: Drive): void {
  if (drive.unsafeKeys?.length) {
    throw CardsmithError.keyed('unsafe-target', 'safety.unsafe', { device: drive.device }, { device: drive.device, reasons: drive.unsafeReasons }, { notes: drive.unsafeKeys.slice(0, 8) });
  }
  if (drive.unsafeReasons.length > 0) {
    throw CardsmithError.keyed('unsafe-target', 'safety.unsafeBecause', { device: drive.device, reasons: drive.unsafeReasons.join('; ') }, {
      device: drive.device,
      reasons: drive.unsafeReasons,
    });
  }
  if (drive.sizeBytes === null) throw CardsmithError.keyed('unsafe-target', 'safety.sizeUnknown', { device: drive.device }, { device: drive.device });
}
