/**
 * Who a card is, so a check's result can be found again on the next flash. A native SD slot
 * (mmc) exposes the card's CID in sysfs: manufacturer id, OEM, product name, revision, date and
 * the serial number, unique per card. Behind a USB reader only the reader is known (vendor,
 * product, serial), so its key adds the size the card claims; a swapped card of the same size
 * in the same reader looks the same, which is why a remembered result never makes a card pass
 * anything, it only refuses.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CardIdentity } from './model';

export type IdentityKind = CardIdentity['kind'];

const SD_FIELDS = ['manfid', 'oemid', 'name', 'hwrev', 'fwrev', 'date', 'serial', 'cid', 'csd', 'type'] as const;
const USB_FIELDS = ['idVendor', 'idProduct', 'manufacturer', 'product', 'serial'] as const;

const clean = (value: string | undefined): string => (value ?? '').trim().toLowerCase().replace(/\s+/g, ' ') || '-';

/** The stable key results are remembered by (pure). */
export function identityKey(kind: IdentityKind, fields: Readonly<Record<string, string>>, sizeBytes: number): string {
  switch (kind) {
    case 'sd':
      // The CID serial is per card; manufacturer, OEM and name make it unique across makers.
      return ['sd', clean(fields.manfid), clean(fields.oemid), clean(fields.name), clean(fields.serial)].join(':');
    case 'usb':
      return ['usb', clean(fields.idVendor), clean(fields.idProduct), clean(fields.serial), clean(fields.vendor), clean(fields.model), String(sizeBytes)].join(':');
    case 'loop':
      return ['loop', fields.backingFile ?? '-', String(sizeBytes)].join(':');
    default:
      return ['other', clean(fields.vendor), clean(fields.model), clean(fields.serial), String(sizeBytes)].join(':');
  }
}

function readFields(dir: string, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    try {
      out[name] = readFileSync(join(dir, name), 'utf8').trim();
    } catch {
      // absent on this kind of device
    }
  }
  return out;
}

/** What sysfs tells about the whole disk "major:minor" (Linux; elsewhere only the size is known). */
export function readIdentity(key: string, sizeBytes: number, sysfs = '/sys'): CardIdentity {
  const block = join(sysfs, 'dev/block', key);
  const of = (kind: IdentityKind, fields: Record<string, string>): CardIdentity => ({ kind, fields, key: identityKey(kind, fields, sizeBytes) });
  if (!existsSync(block)) return of('other', {});
  const backing = readFields(join(block, 'loop'), ['backing_file']).backing_file;
  if (backing !== undefined) return of('loop', { backingFile: backing });
  const device = join(block, 'device');
  const sd = readFields(device, SD_FIELDS);
  if (sd.cid !== undefined && sd.serial !== undefined) return of('sd', sd);
  const scsi = readFields(device, ['vendor', 'model']);
  try {
    // The USB device is an ancestor of the disk's device in the sysfs tree.
    for (let dir = realpathSync(device); dir !== dirname(dir); dir = dirname(dir)) {
      if (existsSync(join(dir, 'idVendor'))) return of('usb', { ...scsi, ...readFields(dir, USB_FIELDS) });
    }
  } catch {
    // no device link
  }
  return of('other', { ...scsi, ...readFields(block, ['serial']) });
}
