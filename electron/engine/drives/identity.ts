/**
 * A device's identity is its device number (major:minor), never the path string: `/dev/loop2`,
 * `/dev/../dev/loop2`, `//dev/loop2` and a by-id symlink are one device, and a path can be
 * renamed or re-pointed between a check and an open while the number of what was opened cannot.
 * Every rule that asks "which device" (one job per device, a card that holds its own image,
 * partition or whole disk, system disk) compares these keys.
 */
import { fstatSync, readFileSync, statSync, type BigIntStats } from 'node:fs';
import { CardsmithError } from '../errors';

export interface DeviceNumber {
  readonly major: number;
  readonly minor: number;
}

/**
 * dev_t → major/minor: glibc's encoding on Linux (12 bits of major and 20 of minor, split),
 * the BSD one on macOS (8 bits of major above 24 of minor).
 */
export function splitDevNumber(dev: bigint, platform: NodeJS.Platform = process.platform): DeviceNumber {
  if (platform === 'darwin') return { major: Number((dev >> 24n) & 0xffn), minor: Number(dev & 0xffffffn) };
  return {
    major: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)),
    minor: Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn)),
  };
}

/** "major:minor", the form lsblk, sysfs (/sys/dev/block) and mountinfo use. */
export function devKey(number: DeviceNumber): string {
  return `${number.major}:${number.minor}`;
}

/**
 * The key of the disk device a stat describes (st_rdev), or null for anything else. On macOS a
 * card is opened as its raw node (/dev/rdiskN), a character device.
 */
export function blockDeviceKey(stats: BigIntStats, platform: NodeJS.Platform = process.platform): string | null {
  const disk = stats.isBlockDevice() || (platform === 'darwin' && stats.isCharacterDevice());
  return disk ? devKey(splitDevNumber(stats.rdev, platform)) : null;
}

/** The key of the filesystem holding a file (st_dev). */
export function holderKey(stats: BigIntStats): string {
  return devKey(splitDevNumber(stats.dev));
}

/** The block device `path` names now (symlinks followed), by number. */
export function deviceKeyOfPath(path: string): string {
  let stats: BigIntStats;
  try {
    stats = statSync(path, { bigint: true });
  } catch {
    throw CardsmithError.keyed('device-gone', 'safety.missing', { device: path }, { device: path });
  }
  const key = blockDeviceKey(stats);
  if (key === null) throw CardsmithError.keyed('unsafe-target', 'safety.notBlock', { device: path }, { device: path });
  return key;
}

/** The block device an open descriptor refers to, by number (null when it is not one). */
export function deviceKeyOfFd(fd: number): string | null {
  return blockDeviceKey(fstatSync(fd, { bigint: true }));
}

/** True when sysfs says the device is a partition of another (it has a `partition` attribute). */
export function isPartition(key: string): boolean {
  try {
    readFileSync(`/sys/dev/block/${key}/partition`, 'utf8');
    return true;
  } catch {
    return false;
  }
}
