/**
 * The drive scanner's I/O edge: runs lsblk and reads sysfs (facts for the safety rules, and each
 * drive's reader: reader.ts), /proc/swaps and /proc/self/mountinfo on Linux (drivelist drops loop devices and misreads zram and internal SD readers there), and
 * maps drivelist's report on macOS and Windows. Classification itself is pure (classify.ts).
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { runTool } from '../tools';
import { classifyDrives, type HostFacts, type SysfsFacts } from './classify';
import { fromDrivelist, parseDrivelist } from './drivelist';
import { holderKey } from './identity';
import { LSBLK_ARGS, parseLsblk, type BlockDevice } from './lsblk';
import type { Drive } from './model';
import { readerOf } from './reader';

export interface ScanOptions {
  readonly all?: boolean;
  readonly allowLoop?: boolean;
  /** The image about to be written: the drive holding it is never a target. */
  readonly sourcePath?: string;
}

export async function runLsblk(): Promise<BlockDevice[]> {
  const { stdout } = await runTool('lsblk', LSBLK_ARGS, { cause: 'internal', package: 'util-linux' });
  return parseLsblk(stdout);
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

export function readSysfs(kname: string): SysfsFacts {
  const base = `/sys/block/${kname}`;
  let sysPath = '';
  try {
    sysPath = realpathSync(base);
  } catch {
    // a device that vanished between lsblk and here: no facts
  }
  return {
    mmcType: kname.startsWith('mmcblk') ? readText(`${base}/device/type`) : null,
    usb: /\/usb\d*\//.test(sysPath),
    removable: readText(`${base}/removable`) === '1',
  };
}

/** Device paths in /proc/swaps (the first column, header skipped). */
export function parseSwaps(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s+/)[0])
      .filter((name): name is string => name !== undefined && name.startsWith('/dev/')),
  );
}

/** Mount points and their sources from /proc/self/mountinfo (fields 5 and the one after " - "). */
export function parseMountinfo(text: string): { mountPoint: string; source: string; majMin: string }[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  return text
    .split('\n')
    .filter((line) => line.includes(' - '))
    .map((line) => {
      const [left = '', right = ''] = line.split(' - ');
      const fields = left.split(' ');
      return { majMin: fields[2] ?? '', mountPoint: unescape(fields[4] ?? ''), source: unescape(right.split(' ')[1] ?? '') };
    });
}

/** "major:minor" and mount source of the filesystem holding `path`. */
export function sourceHoldersOf(path: string | undefined): Set<string> {
  const holders = new Set<string>();
  if (!path || /^[a-z]+:\/\//i.test(path)) return holders;
  let real: string;
  try {
    real = realpathSync(resolve(path));
  } catch {
    return holders;
  }
  holders.add(holderKey(statSync(real, { bigint: true })));
  const mounts = parseMountinfo(readText('/proc/self/mountinfo') ?? '');
  const containing = mounts
    .filter((m) => real === m.mountPoint || real.startsWith(m.mountPoint.endsWith('/') ? m.mountPoint : `${m.mountPoint}/`))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
  if (containing?.source.startsWith('/dev/')) {
    holders.add(containing.source);
    try {
      holders.add(realpathSync(containing.source));
    } catch {
      // the mount source is not a device node here
    }
  }
  return holders;
}

export function linuxHostFacts(options: ScanOptions): HostFacts {
  return {
    swapDevices: parseSwaps(readText('/proc/swaps') ?? ''),
    sourceHolders: sourceHoldersOf(options.sourcePath),
    allowLoop: options.allowLoop ?? false,
    sysfs: readSysfs,
  };
}

/** Lists drives: safe targets only, or every drive with its reasons when `all`. */
export async function scanDrives(options: ScanOptions = {}): Promise<Drive[]> {
  if (process.platform === 'linux') {
    const devices = await runLsblk();
    const knames = new Map(devices.map((d) => [d.path, d.kname]));
    return classifyDrives(devices, linuxHostFacts(options), options.all ?? false).map((drive) => {
      const kname = knames.get(drive.device);
      return kname === undefined ? drive : { ...drive, reader: readerOf(kname) };
    });
  }
  const drivelist = (await import('drivelist')) as { list(): Promise<unknown> };
  const drives = parseDrivelist(await drivelist.list()).map(fromDrivelist);
  return options.all ? drives : drives.filter((d) => d.unsafeReasons.length === 0);
}

/** The canonical path of a device the user named (symlinks such as /dev/disk/by-id resolved). */
export function canonicalDevice(device: string): string {
  try {
    return realpathSync(device);
  } catch {
    return device;
  }
}
