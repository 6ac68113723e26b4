/**
 * drivelist's report (macOS and Windows) held to the same rules as the Linux scanner. Pure: the
 * report is validated field by field (it comes from a native addon) and every drive becomes a
 * Drive with every reason it may not be written. drivelist's own flags are taken where they are
 * sound and completed where they are not:
 * - macOS: a mounted disk image reports the bus "Disk Image" (older systems "Virtual Interface",
 *   the only one drivelist calls virtual); an APFS container is a disk synthesized from a
 *   partition of another disk ("AppleAPFSMedia"), never a card; the internal SD reader is
 *   internal but its media removable, so drivelist does not call it a system drive.
 * - Windows: `error` says drivelist could not query the disk (e.g. a BitLocker-locked or
 *   half-enumerated device): nothing it reported about that disk is trusted.
 */
import { z } from 'zod';
import { CardsmithError } from '../errors';
import { english, message, type Message } from '../messages';
import { LARGE_DRIVE_BYTES, type Drive } from './model';

const nullableBool = z.boolean().nullable().optional();

/** The documented fields Cardsmith reads; anything else drivelist reports is ignored. */
export const DrivelistDriveSchema = z.object({
  device: z.string().min(1),
  raw: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
  busType: z.string().nullable().optional(),
  enumerator: z.string().nullable().optional(),
  error: z.string().nullable().optional(),
  size: z.number().int().nonnegative().nullable(),
  logicalBlockSize: z.number().int().positive().nullable().optional(),
  isReadOnly: z.boolean(),
  isSystem: z.boolean(),
  isVirtual: nullableBool,
  isRemovable: z.boolean(),
  isCard: nullableBool,
  isUSB: nullableBool,
  mountpoints: z.array(z.object({ path: z.string(), label: z.string().nullable().optional() })),
});
export type DrivelistDrive = z.infer<typeof DrivelistDriveSchema>;

/** Validates drivelist's whole report; a malformed entry is named by its index and field. */
export function parseDrivelist(report: unknown): DrivelistDrive[] {
  const parsed = z.array(DrivelistDriveSchema).safeParse(report);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') ?? '';
    throw new CardsmithError('internal', `drivelist reported a drive Cardsmith cannot read (at ${where}: ${issue?.message ?? 'invalid'})`, { path: where });
  }
  return parsed.data;
}

const VIRTUAL_BUSES = new Set(['Virtual Interface', 'Disk Image', 'VIRTUAL', 'FILEBACKEDVIRTUAL']);
const CARD_BUSES = new Set(['SD', 'MMC', 'Secure Digital']);
/** The IOMedia name of an APFS container's synthesized disk. */
const APFS_CONTAINER = 'AppleAPFSMedia';

function readerKindOf(drive: DrivelistDrive, virtual: boolean): Drive['readerKind'] {
  if (virtual) return 'virtual';
  if (drive.isCard || CARD_BUSES.has(drive.busType ?? '')) return 'sd';
  if (drive.isUSB || drive.busType === 'USB') return 'usb';
  return drive.isRemovable ? 'unknown' : 'internal';
}

export function fromDrivelist(drive: DrivelistDrive): Drive {
  const apfs = drive.description === APFS_CONTAINER;
  const virtual = drive.isVirtual === true || VIRTUAL_BUSES.has(drive.busType ?? '') || apfs;
  const readerKind = readerKindOf(drive, virtual);
  const mountpoints = drive.mountpoints.map((m) => m.path);
  const system = drive.isSystem || mountpoints.includes('/');
  const unsafe: Message[] = [];
  if (drive.error) unsafe.push(message('drive.undescribed', { error: drive.error }));
  if (system) unsafe.push(message('drive.system'));
  if (drive.isReadOnly) unsafe.push(message('drive.readOnly'));
  if (apfs) unsafe.push(message('drive.apfs'));
  else if (virtual) unsafe.push(message('drive.diskImage'));
  if (!drive.size) unsafe.push(message('drive.sizeUnknown'));
  if (readerKind === 'internal' && !system) unsafe.push(message('drive.internal'));
  const warnings = drive.size && drive.size > LARGE_DRIVE_BYTES ? [message('drive.large', { gb: LARGE_DRIVE_BYTES / 1e9 })] : [];
  return {
    device: drive.device,
    description: drive.description ?? '',
    sizeBytes: drive.size || null,
    readerKind,
    removable: drive.isRemovable,
    readOnly: drive.isReadOnly,
    system,
    mountpoints,
    unsafeReasons: unsafe.map(english),
    warnings: warnings.map(english),
    unsafeKeys: unsafe,
    warningKeys: warnings,
  };
}
