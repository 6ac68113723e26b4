/**
 * The writer's own safety check. Whoever asks for a write (GUI, CLI), the process that writes
 * scans the host again and refuses anything that is not a whole, safe, present block device —
 * trusting no drive list it was handed.
 */
import { statSync } from 'node:fs';
import { CardsmithError } from '../errors';
import { classifyDrive } from './classify';
import { descendants, type BlockDevice } from './lsblk';
import type { Drive } from './model';
import { canonicalDevice, linuxHostFacts, runLsblk, scanDrives, type ScanOptions } from './scan';

export interface SafeTarget {
  readonly drive: Drive;
  /** The lsblk tree of the target (Linux only): its partitions, for unmounting. */
  readonly tree: BlockDevice | null;
}

export async function checkTarget(device: string, options: ScanOptions): Promise<SafeTarget> {
  const path = canonicalDevice(device);
  let isBlock: boolean;
  try {
    const stats = statSync(path);
    isBlock = stats.isBlockDevice() || (process.platform !== 'linux' && stats.isCharacterDevice());
  } catch {
    throw new CardsmithError('device-gone', `${device} does not exist (was the card removed?)`, { device });
  }
  if (!isBlock) throw new CardsmithError('unsafe-target', `${device} is not a block device; only whole cards are written`, { device });

  if (process.platform !== 'linux') {
    const drive = (await scanDrives({ ...options, all: true })).find((d) => d.device === path);
    if (!drive) throw new CardsmithError('device-gone', `${device} is not among the connected drives`, { device });
    assertSafe(drive);
    return { drive, tree: null };
  }
  const devices = await runLsblk();
  const top = devices.find((d) => d.path === path);
  if (!top) {
    const parent = devices.find((d) => descendants(d).some((child) => child.path === path));
    if (parent) {
      throw new CardsmithError('unsafe-target', `${device} is a partition of ${parent.path}; choose the whole card`, { device, disk: parent.path });
    }
    throw new CardsmithError('device-gone', `${device} is not among the connected drives`, { device });
  }
  const drive = classifyDrive(top, linuxHostFacts(options));
  assertSafe(drive);
  return { drive, tree: top };
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
