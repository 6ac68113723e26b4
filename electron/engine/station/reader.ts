/**
 * The reader a card sits in, as sysfs tells it (Linux): vendor, model and serial of the device,
 * and the reader's port path, so a failed card can be found on the table afterwards. For a loop
 * device the "reader" is its backing file. Elsewhere every field is null.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import type { StationRow } from '../api';

function read(path: string): string | null {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return text === '' ? null : text;
  } catch {
    return null;
  }
}

export function readerOf(device: string): StationRow['reader'] {
  const base = `/sys/block/${basename(device)}`;
  const backing = read(`${base}/loop/backing_file`);
  if (backing !== null) return { vendor: null, model: null, serial: null, path: backing };
  let port: string | null = null;
  try {
    port = realpathSync(`${base}/device`);
  } catch {
    // not a device with a parent in sysfs (virtual), or not Linux
  }
  return {
    vendor: read(`${base}/device/vendor`),
    // SD cards in an mmc host name themselves in `name`; SCSI/USB readers in `model`.
    model: read(`${base}/device/model`) ?? read(`${base}/device/name`),
    serial: read(`${base}/device/serial`) ?? read(`${base}/device/wwid`),
    path: port,
  };
}
