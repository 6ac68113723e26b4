/**
 * Which drives may be written. A drive is a safe target only when none of these hold: it carries
 * the running system (/, /usr, /var, /opt, /srv, /boot, /boot/efi or anything mounted below them,
 * /home or a home folder, active swap), it is read-only,
 * it is virtual (zram — which drivelist calls removable —, ram, device-mapper, md, nbd, or a loop
 * device unless the caller explicitly allows loops for tests), its size is unknown, it holds the
 * image being written, or it is an internal fixed disk. SD readers are recognised from sysfs
 * because internal mmc readers report rm=0. Pure: every fact about the host comes in as data.
 */
import { english, message, type Message } from '../messages';
import type { Drive } from './model';
import { LARGE_DRIVE_BYTES } from './model';
import { descendants, type BlockDevice } from './lsblk';

/** What sysfs says about one top-level device (/sys/block/<kname>). */
export interface SysfsFacts {
  /** Contents of device/type for mmc devices: "SD", "MMC", "SDIO"; null otherwise. */
  readonly mmcType: string | null;
  /** The device hangs off a USB bus (its sysfs path runs through a usb node). */
  readonly usb: boolean;
  /** /sys/block/<kname>/removable */
  readonly removable: boolean;
}

export interface HostFacts {
  /** Device paths listed in /proc/swaps. */
  readonly swapDevices: ReadonlySet<string>;
  /**
   * Where the source image lives: "major:minor" of its filesystem and the device path of its
   * mount source; a drive whose tree contains either holds the image.
   */
  readonly sourceHolders: ReadonlySet<string>;
  /** Offer loop devices (development and tests only). */
  readonly allowLoop: boolean;
  readonly sysfs: (kname: string) => SysfsFacts;
}

/** Mounted here or anywhere below: the system's own files. */
const SYSTEM_TREES = ['/usr', '/var', '/opt', '/srv', '/boot', '/efi'];

/**
 * A mount point that makes its disk part of the running system. /home and a home folder are
 * (/home/<user>), a card mounted inside a home folder by hand is not; lsblk marks swap "[SWAP]".
 */
export function isSystemMount(mountpoint: string): boolean {
  if (mountpoint === '/' || mountpoint === '[SWAP]') return true;
  if (/^\/home(\/[^/]+)?\/?$/.test(mountpoint)) return true;
  return SYSTEM_TREES.some((tree) => mountpoint === tree || mountpoint.startsWith(`${tree}/`));
}
const VIRTUAL_NAME = /^(zram|ram|dm-|md|nbd|loop)\d*/;

function readerKind(device: BlockDevice, sysfs: SysfsFacts): Drive['readerKind'] {
  if (device.type === 'loop' || device.kname.startsWith('loop')) return 'loop';
  if (VIRTUAL_NAME.test(device.kname) || device.type === 'rom') return 'virtual';
  if (sysfs.mmcType === 'SD' || sysfs.mmcType === 'MMC' || device.transport === 'mmc') return 'sd';
  if (sysfs.usb || device.transport === 'usb') return 'usb';
  if (sysfs.removable || device.removable || device.hotplug) return 'unknown';
  return 'internal';
}

function describe(device: BlockDevice, kind: Drive['readerKind'], sysfs: SysfsFacts): string {
  const name = [device.vendor, device.model].filter((p) => p !== null).join(' ');
  if (name) return name;
  switch (kind) {
    case 'sd':
      return sysfs.mmcType === 'MMC' ? 'eMMC / MMC card' : 'SD card';
    case 'usb':
      return 'USB drive';
    case 'loop':
      return 'Loop device';
    case 'virtual':
      return 'Virtual device';
    case 'internal':
      return 'Internal disk';
    case 'unknown':
      return 'Removable drive';
  }
}

/** Classifies one top-level device from lsblk with the host's facts. */
export function classifyDrive(device: BlockDevice, host: HostFacts): Drive {
  const sysfs = host.sysfs(device.kname);
  const kind = readerKind(device, sysfs);
  const tree = descendants(device);
  const mountpoints = tree.flatMap((d) => d.mountpoints);
  const unsafe: Message[] = [];

  const systemMounts = mountpoints.filter((m) => m !== '[SWAP]' && isSystemMount(m));
  // /proc/swaps names a dm device by its kernel name (/dev/dm-1) where lsblk shows /dev/mapper/….
  const swapping = tree.filter((d) => d.mountpoints.includes('[SWAP]') || host.swapDevices.has(d.path) || host.swapDevices.has(`/dev/${d.kname}`));
  const system = systemMounts.length > 0 || swapping.length > 0;
  if (systemMounts.length > 0) unsafe.push(message('drive.systemHolds', { mounts: systemMounts.join(', ') }));
  if (swapping.length > 0) unsafe.push(message('drive.systemSwap', { devices: swapping.map((d) => d.path).join(', ') }));
  if (device.readOnly) unsafe.push(message('drive.readOnly'));
  if (kind === 'virtual') unsafe.push(message('drive.virtual', { type: device.type, name: device.kname }));
  if (kind === 'loop' && !host.allowLoop) unsafe.push(message('drive.loop'));
  if (device.sizeBytes === null) unsafe.push(message('drive.sizeUnknown'));
  if (tree.some((d) => host.sourceHolders.has(d.path) || (d.majMin !== null && host.sourceHolders.has(d.majMin)))) {
    unsafe.push(message('drive.holdsSource'));
  }
  if (kind === 'internal' && !system) unsafe.push(message('drive.internal'));

  const warnings: Message[] = [];
  if (device.sizeBytes !== null && device.sizeBytes > LARGE_DRIVE_BYTES) {
    warnings.push(message('drive.large', { gb: LARGE_DRIVE_BYTES / 1e9 }));
  }
  const nonSystemMounts = mountpoints.filter((m) => !isSystemMount(m));
  if (nonSystemMounts.length > 0 && unsafe.length === 0) warnings.push(message('drive.mounted', { mounts: nonSystemMounts.join(', ') }));

  return {
    device: device.path,
    description: describe(device, kind, sysfs),
    sizeBytes: device.sizeBytes,
    readerKind: kind,
    removable: device.removable || sysfs.removable || kind === 'sd',
    readOnly: device.readOnly,
    system,
    mountpoints,
    unsafeReasons: unsafe.map(english),
    warnings: warnings.map(english),
    unsafeKeys: unsafe,
    warningKeys: warnings,
  };
}

/**
 * Every top-level device as a Drive. Unattached loop devices (size 0) are not drives at all and
 * are dropped; `all` keeps unsafe drives (with their reasons), otherwise only safe targets remain.
 */
export function classifyDrives(devices: readonly BlockDevice[], host: HostFacts, all: boolean): Drive[] {
  return devices
    .filter((d) => d.type !== 'part' && !(d.type === 'loop' && d.sizeBytes === null))
    .filter((d) => d.type !== 'loop' || host.allowLoop || all)
    .map((d) => classifyDrive(d, host))
    .filter((drive) => all || drive.unsafeReasons.length === 0);
}
