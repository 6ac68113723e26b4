/**
 * lsblk's JSON, read into block-device trees. `lsblk --bytes --all --json --paths --output-all`
 * lists every disk with its partitions (and anything stacked on them: dm-crypt, LVM) as
 * `children`. Versions differ: booleans may be true/false or "0"/"1", sizes numbers or strings,
 * and older releases have a single `mountpoint` where newer ones have a `mountpoints` array.
 * This module only parses; running lsblk lives in scan.ts.
 */
import { z } from 'zod';

export const LSBLK_ARGS = ['--bytes', '--all', '--json', '--paths', '--output-all'] as const;

export interface BlockDevice {
  /** Device path, e.g. /dev/sdb or /dev/mmcblk0p1. */
  readonly path: string;
  /** Kernel name without /dev, as under /sys/block (sdb, mmcblk0). */
  readonly kname: string;
  /** "major:minor", used to find which device holds a file. */
  readonly majMin: string | null;
  /** disk, part, loop, rom, crypt, lvm, … */
  readonly type: string;
  readonly sizeBytes: number | null;
  readonly readOnly: boolean;
  readonly removable: boolean;
  readonly hotplug: boolean;
  /** Transport: usb, sata, nvme, mmc … or null. */
  readonly transport: string | null;
  readonly model: string | null;
  readonly vendor: string | null;
  readonly fstype: string | null;
  /** Where this very device is mounted; "[SWAP]" marks active swap. */
  readonly mountpoints: readonly string[];
  readonly children: readonly BlockDevice[];
}

const flag = z.union([z.boolean(), z.string(), z.number(), z.null()]).optional();
const text = z.union([z.string(), z.null()]).optional();
const size = z.union([z.number(), z.string(), z.null()]).optional();

interface RawEntry {
  name: string;
  kname?: string | null;
  path?: string | null;
  'maj:min'?: string | null;
  type?: string | null;
  size?: number | string | null;
  ro?: boolean | string | number | null;
  rm?: boolean | string | number | null;
  hotplug?: boolean | string | number | null;
  tran?: string | null;
  model?: string | null;
  vendor?: string | null;
  fstype?: string | null;
  mountpoint?: string | null;
  mountpoints?: (string | null)[] | null;
  children?: RawEntry[];
}

const RawEntrySchema: z.ZodType<RawEntry> = z.lazy(() =>
  z.object({
    name: z.string(),
    kname: text,
    path: text,
    'maj:min': text,
    type: text,
    size,
    ro: flag,
    rm: flag,
    hotplug: flag,
    tran: text,
    model: text,
    vendor: text,
    fstype: text,
    mountpoint: text,
    mountpoints: z.array(z.union([z.string(), z.null()])).nullable().optional(),
    children: z.array(RawEntrySchema).optional(),
  }),
);

const LsblkSchema = z.object({ blockdevices: z.array(RawEntrySchema) });

function toBool(value: RawEntry['ro']): boolean {
  return value === true || value === 1 || value === '1' || value === 'true';
}

function toSize(value: RawEntry['size']): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

function trimmed(value: string | null | undefined): string | null {
  const t = value?.trim();
  return t ? t : null;
}

function toDevice(entry: RawEntry): BlockDevice {
  const path = entry.path ?? (entry.name.startsWith('/') ? entry.name : `/dev/${entry.name}`);
  const kname = (entry.kname ?? entry.name).replace(/^\/dev\//, '');
  const mounts = entry.mountpoints ?? (entry.mountpoint !== undefined ? [entry.mountpoint] : []);
  return {
    path,
    kname,
    majMin: entry['maj:min'] ?? null,
    type: entry.type ?? 'disk',
    sizeBytes: toSize(entry.size),
    readOnly: toBool(entry.ro),
    removable: toBool(entry.rm),
    hotplug: toBool(entry.hotplug),
    transport: trimmed(entry.tran),
    model: trimmed(entry.model),
    vendor: trimmed(entry.vendor),
    fstype: trimmed(entry.fstype),
    mountpoints: mounts.filter((m): m is string => typeof m === 'string' && m !== ''),
    children: (entry.children ?? []).map(toDevice),
  };
}

/** Parses lsblk's JSON output into the top-level devices (disks, loops, roms) with their trees. */
export function parseLsblk(json: string): BlockDevice[] {
  return LsblkSchema.parse(JSON.parse(json)).blockdevices.map(toDevice);
}

/** The device and everything below it (partitions, and what is stacked on them). */
export function descendants(device: BlockDevice): BlockDevice[] {
  return [device, ...device.children.flatMap(descendants)];
}
