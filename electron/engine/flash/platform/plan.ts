/**
 * The card's platform layer as data: for each OS, which calls release, open, close and eject a
 * card, in which order, with which flags. Pure — the executor (flash/device.ts openTarget,
 * drives/unmount.ts) performs the steps, so every decision here is unit-tested on any OS.
 *
 * - Linux: every mount of the card is unmounted (drives/unmount.ts), then the disk is opened
 *   O_EXCL (the kernel refuses while anything holds it) and O_DIRECT (no page cache), falling
 *   back to buffered I/O only where a device refuses O_DIRECT.
 * - macOS: `diskutil unmountDisk` releases every volume; the card is opened as the raw
 *   character device /dev/rdiskN, whose reads and writes go to the driver without the buffer
 *   cache (what F_NOCACHE approximates on /dev/diskN, without a native call), in multiples of
 *   the device block size; libuv's fsync on macOS is fcntl(F_FULLFSYNC), so the flush reaches
 *   the card, not just the reader's cache. Ejected with `diskutil eject`.
 * - Windows: every volume on the disk is opened, locked (FSCTL_LOCK_VOLUME: refused while a
 *   file on it is open) and dismounted (FSCTL_DISMOUNT_VOLUME), and those handles are held until
 *   the card is closed — Windows refuses raw writes to the sectors of a mounted, unlocked
 *   volume. \\.\PhysicalDriveN is opened unbuffered (FILE_FLAG_NO_BUFFERING) and write-through
 *   (FILE_FLAG_WRITE_THROUGH); after the job the disk's partition table is re-read
 *   (IOCTL_DISK_UPDATE_PROPERTIES) before the volumes are unlocked.
 */
import { CardsmithError } from '../../errors';

export type CardOs = 'linux' | 'darwin' | 'win32';

export function cardOs(platform: NodeJS.Platform = process.platform): CardOs {
  if (platform === 'linux' || platform === 'darwin' || platform === 'win32') return platform;
  throw CardsmithError.keyed('not-implemented', 'device.platform', { platform }, { platform });
}
export type CardMode = 'write' | 'read';
export type OpenFlag = 'read-write' | 'read-only' | 'exclusive' | 'direct' | 'write-through';
export type Ioctl = 'FSCTL_LOCK_VOLUME' | 'FSCTL_DISMOUNT_VOLUME' | 'IOCTL_DISK_UPDATE_PROPERTIES';
/** Where the size transfers must be multiples of comes from, once the card is open. */
export type BlockSizeSource = 'sysfs' | 'diskutil' | 'sector-size-ioctl';

/** What a step acts on: the card, or one volume of it (Windows). */
export type Handle = 'card' | `volume:${string}`;

export type Step =
  /** Linux: unmount every filesystem mounted from the card or its partitions, then re-check. */
  | { readonly call: 'unmount-mounts' }
  /** A system tool; `onFailure` says whether a failure stops the job or is only logged. */
  | { readonly call: 'run'; readonly argv: readonly string[]; readonly onFailure: 'busy' | 'log' }
  /**
   * `uncached`: this open bypasses the OS cache, so transfers must be whole blocks; `fallback`:
   * the flags to retry with (cached) when the device refuses the uncached open (Linux EINVAL).
   */
  | { readonly call: 'open'; readonly handle: Handle; readonly path: string; readonly flags: readonly OpenFlag[]; readonly uncached: boolean; readonly fallback?: readonly OpenFlag[] }
  | { readonly call: 'block-size'; readonly from: BlockSizeSource }
  /** Tried up to `attempts` times, `retryMs` apart, while the OS reports the volume in use. */
  | { readonly call: 'ioctl'; readonly handle: Handle; readonly code: Ioctl; readonly attempts: number; readonly retryMs: number }
  /** fsync: fsync(2) on Linux, fcntl(F_FULLFSYNC) on macOS, FlushFileBuffers on Windows. */
  | { readonly call: 'flush'; readonly handle: Handle }
  | { readonly call: 'close'; readonly handle: Handle };

export interface CardPlan {
  /** Before the card is opened to write: release what the OS has mounted from it. */
  readonly release: readonly Step[];
  /** Opening the card (Windows: after locking its volumes); ends with the block size. */
  readonly open: readonly Step[];
  /** When the job is done with the card (the writer has already flushed it). */
  readonly close: readonly Step[];
  /** Tried in order after a flash until one succeeds; empty: the person removes the card. */
  readonly eject: readonly (readonly string[])[];
}

/** Open flags as numbers for fs.open. */
export type FlagBits = Readonly<Partial<Record<OpenFlag, number>>>;

/** Linux and macOS: the running system's own constants (O_DIRECT differs between CPUs). */
export function posixFlagBits(constants: { O_RDWR: number; O_RDONLY: number; O_EXCL: number; O_DIRECT?: number }): FlagBits {
  return { 'read-write': constants.O_RDWR, 'read-only': constants.O_RDONLY, exclusive: constants.O_EXCL, ...(constants.O_DIRECT ? { direct: constants.O_DIRECT } : {}) };
}

/** Windows: libuv's UV_FS_O_* values (uv/win.h), which Node passes through but does not export. */
export const WIN32_FLAG_BITS: FlagBits = { 'read-write': 0x2, 'read-only': 0, direct: 0x02000000, 'write-through': 0x04000000 };

export function openFlagBits(flags: readonly OpenFlag[], bits: FlagBits): number {
  return flags.reduce((sum, flag) => {
    const bit = bits[flag];
    if (bit === undefined) throw new CardsmithError('internal', `The ${flag} open flag is not available on this system`, { flag });
    return sum | bit;
  }, 0);
}

export function linuxCardPlan(device: string, mode: CardMode): CardPlan {
  const access: OpenFlag[] = mode === 'write' ? ['read-write', 'exclusive'] : ['read-only'];
  return {
    release: mode === 'write' ? [{ call: 'unmount-mounts' }] : [],
    open: [
      { call: 'open', handle: 'card', path: device, flags: [...access, 'direct'], uncached: true, fallback: access },
      { call: 'block-size', from: 'sysfs' },
    ],
    close: [{ call: 'close', handle: 'card' }],
    eject: [
      ['udisksctl', 'power-off', '--block-device', device, '--no-user-interaction'],
      ['eject', device],
    ],
  };
}

/** macOS: the whole disk /dev/diskN (never a slice such as disk4s1) and its raw node. */
export function macDisk(device: string): { disk: string; raw: string } {
  const match = /^\/dev\/r?(disk\d+)$/.exec(device);
  if (!match) throw CardsmithError.keyed('unsafe-target', 'device.notMacDisk', { device }, { device });
  return { disk: `/dev/${match[1]}`, raw: `/dev/r${match[1]}` };
}

export function darwinCardPlan(device: string, mode: CardMode): CardPlan {
  const { disk, raw } = macDisk(device);
  const write = mode === 'write';
  return {
    release: write ? [{ call: 'run', argv: ['diskutil', 'unmountDisk', disk], onFailure: 'busy' }] : [],
    open: [
      { call: 'open', handle: 'card', path: raw, flags: [write ? 'read-write' : 'read-only'], uncached: true },
      { call: 'block-size', from: 'diskutil' },
    ],
    close: [...(write ? [{ call: 'flush', handle: 'card' } as const] : []), { call: 'close', handle: 'card' }],
    eject: [['diskutil', 'eject', disk]],
  };
}

/** Windows: the disk number of \\.\PhysicalDriveN (any case). */
export function windowsDiskNumber(device: string): number {
  const match = /^\\\\\.\\physicaldrive(\d{1,3})$/i.exec(device);
  if (!match) throw CardsmithError.keyed('unsafe-target', 'device.notWindowsDrive', { device }, { device });
  return Number(match[1]);
}

/** The PowerShell command listing the volume paths of disk `n`'s partitions, one a line. */
export function windowsVolumeQuery(disk: number): string[] {
  return [
    'powershell.exe',
    '-NoProfile',
    '-NonInteractive',
    '-Command',
    `Get-Partition -DiskNumber ${disk} -ErrorAction SilentlyContinue | ForEach-Object { $_.AccessPaths }`,
  ];
}

/**
 * The volumes in that output, as CreateFile opens them: `\\?\Volume{GUID}` without the trailing
 * backslash (with it, the volume's root folder would be opened). Drive letters and folder mount
 * points are other names of the same volumes and are left out.
 */
export function parseVolumePaths(output: string): string[] {
  const volumes = output
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => /^\\\\\?\\Volume\{[0-9a-f-]{36}\}\\?$/i.test(line))
    .map((line) => line.replace(/\\$/, ''));
  return [...new Set(volumes)];
}

export function win32CardPlan(device: string, volumes: readonly string[], mode: CardMode): CardPlan {
  const disk = windowsDiskNumber(device);
  const card = `\\\\.\\PhysicalDrive${disk}`;
  if (mode === 'read') {
    return { release: [], open: [{ call: 'open', handle: 'card', path: card, flags: ['read-only', 'direct'], uncached: true }, { call: 'block-size', from: 'sector-size-ioctl' }], close: [{ call: 'close', handle: 'card' }], eject: [] };
  }
  const handles = volumes.map((path) => ({ path, handle: `volume:${path}` as const }));
  return {
    release: [],
    open: [
      ...handles.flatMap(({ path, handle }): Step[] => [
        { call: 'open', handle, path, flags: ['read-write'], uncached: false },
        // Explorer and indexers open a fresh volume briefly: a refused lock is tried again.
        { call: 'ioctl', handle, code: 'FSCTL_LOCK_VOLUME', attempts: 5, retryMs: 1000 },
        { call: 'ioctl', handle, code: 'FSCTL_DISMOUNT_VOLUME', attempts: 1, retryMs: 0 },
      ]),
      { call: 'open', handle: 'card', path: card, flags: ['read-write', 'direct', 'write-through'], uncached: true },
      { call: 'block-size', from: 'sector-size-ioctl' },
    ],
    close: [
      { call: 'ioctl', handle: 'card', code: 'IOCTL_DISK_UPDATE_PROPERTIES', attempts: 1, retryMs: 0 },
      { call: 'close', handle: 'card' },
      ...handles.map(({ handle }): Step => ({ call: 'close', handle })),
    ],
    eject: [],
  };
}

/** The release and eject steps, which do not depend on what the card holds (Windows' volumes). */
export function staticCardPlan(os: CardOs, device: string, mode: CardMode): CardPlan {
  if (os === 'linux') return linuxCardPlan(device, mode);
  return os === 'darwin' ? darwinCardPlan(device, mode) : win32CardPlan(device, [], mode);
}

/** `diskutil info -plist` → the device block size (the raw node's transfer unit). */
export function parseDiskutilBlockSize(plist: string): number {
  const match = /<key>DeviceBlockSize<\/key>\s*<integer>(\d+)<\/integer>/.exec(plist);
  const size = match ? Number(match[1]) : NaN;
  if (!Number.isInteger(size) || size < 512 || size > 65536 || (size & (size - 1)) !== 0) {
    throw new CardsmithError('internal', `diskutil reported no usable DeviceBlockSize (${match?.[1] ?? 'missing'})`, { blockSize: match?.[1] ?? null });
  }
  return size;
}
