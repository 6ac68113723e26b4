/**
 * drivelist's report mapped to Drives, on reports written from drivelist's documented fields
 * for the drives a Mac or a Windows PC shows: system disks, APFS containers, SD readers
 * (internal and USB), disk images, a drive drivelist could not query.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromDrivelist, parseDrivelist } from '../../../electron/engine/drives/drivelist';
import type { Drive } from '../../../electron/engine/drives/model';

const report = (os: string): Drive[] => parseDrivelist(JSON.parse(readFileSync(join(__dirname, '../../fixtures/drivelist', `${os}.json`), 'utf8'))).map(fromDrivelist);
const byDevice = (drives: Drive[]): Map<string, Drive> => new Map(drives.map((d) => [d.device, d]));

/** device → [readerKind, the reasons it is refused as patterns (none: a safe target)]. */
type Expectation = [Drive['readerKind'], RegExp[]];

function expectAll(drives: Map<string, Drive>, expected: Record<string, Expectation>): void {
  expect([...drives.keys()].sort()).toEqual(Object.keys(expected).sort());
  for (const [device, [kind, reasons]] of Object.entries(expected)) {
    const drive = drives.get(device) as Drive;
    expect({ device, kind: drive.readerKind }).toEqual({ device, kind });
    expect(drive.unsafeReasons, device).toHaveLength(reasons.length);
    reasons.forEach((reason, i) => expect(drive.unsafeReasons[i], device).toMatch(reason));
  }
}

describe('drivelist on macOS', () => {
  const drives = byDevice(report('darwin'));

  it('offers SD cards in the built-in and USB readers and refuses system disks, APFS containers and disk images', () => {
    expectAll(drives, {
      '/dev/disk0': ['internal', [/system drive/]],
      '/dev/disk3': ['virtual', [/system drive/, /APFS container/]],
      '/dev/disk4': ['sd', []],
      '/dev/disk5': ['usb', []],
      '/dev/disk6': ['virtual', [/disk image/]],
      '/dev/disk7': ['virtual', [/disk image/]],
      '/dev/disk8': ['usb', []],
      '/dev/disk9': ['virtual', [/APFS container/]],
      '/dev/disk10': ['sd', [/read-only/]],
    });
  });

  it('keeps mount points, sizes and the large-drive warning', () => {
    expect(drives.get('/dev/disk4')).toMatchObject({ sizeBytes: 31914983424, mountpoints: ['/Volumes/BOOT'], removable: true, system: false, warnings: [] });
    expect(drives.get('/dev/disk3')?.mountpoints).toEqual(['/', '/System/Volumes/Data']);
    expect(drives.get('/dev/disk8')?.warnings[0]).toMatch(/larger than 128 GB/);
  });
});

describe('drivelist on Windows', () => {
  const drives = byDevice(report('win32'));

  it('offers USB and SD-host readers and refuses system disks, virtual disks and a drive it could not query', () => {
    expectAll(drives, {
      '\\\\.\\PhysicalDrive0': ['internal', [/system drive/]],
      '\\\\.\\PhysicalDrive1': ['usb', []],
      '\\\\.\\PhysicalDrive2': ['sd', []],
      '\\\\.\\PhysicalDrive3': ['internal', [/system drive/]],
      '\\\\.\\PhysicalDrive4': ['usb', [/could not describe this drive \(Couldn't get detail data\)/, /size unknown/]],
      '\\\\.\\PhysicalDrive5': ['virtual', [/disk image/]],
      '\\\\.\\PhysicalDrive6': ['usb', []],
    });
    expect(drives.get('\\\\.\\PhysicalDrive6')?.mountpoints).toEqual(['H:\\', 'I:\\']);
  });
});

describe('a report Cardsmith cannot read', () => {
  it('names the drive and field', () => {
    expect(() => parseDrivelist([{ device: '/dev/disk2', size: 'big', isReadOnly: false, isSystem: false, isRemovable: true, mountpoints: [] }])).toThrow(/at 0\.size/);
    expect(() => parseDrivelist({})).toThrow(/drivelist reported/);
  });

  it('a drive whose size drivelist reports as 0 has an unknown size', () => {
    const [drive] = parseDrivelist([{ device: '/dev/disk2', size: 0, isReadOnly: false, isSystem: false, isRemovable: true, isUSB: true, mountpoints: [] }]).map(fromDrivelist);
    expect(drive).toMatchObject({ sizeBytes: null, unsafeReasons: ['size unknown'] });
  });
});
