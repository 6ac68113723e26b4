/**
 * The reader a drive sits in, as sysfs tells it (Linux): vendor, model and serial, and the
 * reader's port path, so a failed card can be found on the table afterwards. For a loop device
 * the "reader" is its backing file. A SCSI disk behind a USB reader has no serial of its own:
 * the serial is the USB device's, the nearest ancestor with an `idVendor` file.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DriveReader } from './model';

function read(path: string): string | null {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return text === '' ? null : text;
  } catch {
    return null;
  }
}

/** The serial of the USB device above `port` in the device tree, if it hangs off a USB bus. */
function usbSerial(port: string, sysRoot: string): string | null {
  const top = join(sysRoot, 'devices');
  for (let dir = dirname(port); dir.startsWith(`${top}/`); dir = dirname(dir)) {
    if (existsSync(join(dir, 'idVendor'))) return read(join(dir, 'serial'));
  }
  return null;
}

/** What sysfs says about the reader of /sys/block/<kname>; every field null where it says nothing. */
export function readerOf(kname: string, sysRoot = '/sys'): DriveReader {
  const base = join(sysRoot, 'block', kname);
  const backing = read(join(base, 'loop', 'backing_file'));
  if (backing !== null) return { vendor: null, model: null, serial: null, path: backing };
  let port: string | null = null;
  try {
    port = realpathSync(join(base, 'device'));
  } catch {
    // no parent device in sysfs (virtual), or not Linux
  }
  return {
    vendor: read(join(base, 'device', 'vendor')),
    // SD cards in an mmc host name themselves in `name`; SCSI/USB readers in `model`.
    model: read(join(base, 'device', 'model')) ?? read(join(base, 'device', 'name')),
    serial: read(join(base, 'device', 'serial')) ?? read(join(base, 'device', 'wwid')) ?? (port === null ? null : usbSerial(port, sysRoot)),
    path: port,
  };
}
