import { describe, expect, it } from 'vitest';
import { formatDrive } from '../../../electron/cli/drives';
import { classifyDrive } from '../../../electron/engine/drives/classify';
import type { BlockDevice } from '../../../electron/engine/drives/lsblk';

const usb = (over: Partial<BlockDevice>): BlockDevice => ({
  path: '/dev/sdx',
  kname: 'sdx',
  majMin: '8:16',
  type: 'disk',
  sizeBytes: 256e9,
  readOnly: false,
  removable: true,
  hotplug: true,
  transport: 'usb',
  model: 'Backup Disk',
  vendor: 'Acme',
  fstype: null,
  mountpoints: [],
  children: [],
  ...over,
});
const host = { swapDevices: new Set<string>(), sourceHolders: new Set<string>(), allowLoop: false, sysfs: () => ({ mmcType: null, usb: true, removable: true }) };

describe('cardsmith drives --all', () => {
  it('prints a large card as a warning, never under the refusal label', () => {
    const text = formatDrive(classifyDrive(usb({}), host));
    expect(text).toMatch(/^\/dev\/sdx .* Acme Backup Disk\n {17}warning: larger than 128 GB: make sure this is a card and not a backup disk\n$/);
    expect(text).not.toMatch(/REFUSED|UNSAFE/);
  });

  it('prints each refusal and each warning on its own labelled line', () => {
    const system = usb({ children: [usb({ path: '/dev/sdx1', type: 'part', mountpoints: ['/home'] })] });
    const lines = formatDrive(classifyDrive(system, host)).trimEnd().split('\n');
    expect(lines.slice(1).map((line) => line.trim())).toEqual([
      'REFUSED: system drive: holds /home',
      'warning: larger than 128 GB: make sure this is a card and not a backup disk',
    ]);
  });
});
