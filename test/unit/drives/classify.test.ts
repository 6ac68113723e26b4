import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyDrive, classifyDrives, isSystemMount, type HostFacts, type SysfsFacts } from '../../../electron/engine/drives/classify';
import { parseLsblk, type BlockDevice } from '../../../electron/engine/drives/lsblk';
import { mountsOnTree } from '../../../electron/engine/drives/unmount';
import { parseMountinfo, parseSwaps } from '../../../electron/engine/drives/scan';

const fixture = (name: string): string => readFileSync(join(__dirname, '../../fixtures/lsblk', name), 'utf8');
const noSysfs: SysfsFacts = { mmcType: null, usb: false, removable: false };
const host = (over: Partial<HostFacts> = {}): HostFacts => ({
  swapDevices: new Set(),
  sourceHolders: new Set(),
  allowLoop: false,
  sysfs: () => noSysfs,
  ...over,
});

function disk(over: Partial<BlockDevice>): BlockDevice {
  return {
    path: '/dev/sdx',
    kname: 'sdx',
    majMin: '8:16',
    type: 'disk',
    sizeBytes: 32e9,
    readOnly: false,
    removable: true,
    hotplug: true,
    transport: 'usb',
    model: 'Card Reader',
    vendor: 'Generic',
    fstype: null,
    mountpoints: [],
    children: [],
    ...over,
  };
}

describe('lsblk parser on captures from the development VM', () => {
  it('reads disks, zram and loop devices with their partitions and mount points', () => {
    const devices = parseLsblk(fixture('loop-partitioned-mounted.json'));
    const vda = devices.find((d) => d.path === '/dev/vda');
    expect(vda).toMatchObject({ type: 'disk', sizeBytes: 274877906944, mountpoints: ['/'], majMin: '254:0' });
    const zram = devices.find((d) => d.path === '/dev/zram0');
    expect(zram).toMatchObject({ sizeBytes: null, kname: 'zram0' });
    const loop0 = devices.find((d) => d.path === '/dev/loop0');
    expect(loop0?.sizeBytes).toBe(64 * 1024 * 1024);
    expect(loop0?.children.map((c) => [c.path, c.type, c.mountpoints])).toEqual([
      ['/dev/loop0p1', 'part', []],
      ['/dev/loop0p2', 'part', ['/tmp/cap-mnt']],
    ]);
    expect(devices.find((d) => d.path === '/dev/loop1')?.readOnly).toBe(true);
  });

  it('accepts the older string flags and the single mountpoint field', () => {
    const [d] = parseLsblk(JSON.stringify({ blockdevices: [{ name: 'sdb', rm: '1', ro: '0', size: '15931539456', mountpoint: '/media/x', type: 'disk' }] }));
    expect(d).toMatchObject({ path: '/dev/sdb', kname: 'sdb', removable: true, readOnly: false, sizeBytes: 15931539456, mountpoints: ['/media/x'] });
  });

  it('offers nothing on the plain VM: the OS disk and zram are refused with their reasons', () => {
    const devices = parseLsblk(fixture('vm-plain.json'));
    expect(classifyDrives(devices, host(), false)).toEqual([]);
    const all = classifyDrives(devices, host(), true);
    expect(all.map((d) => d.device)).toEqual(['/dev/zram0', '/dev/vda']);
    expect(all[0]?.unsafeReasons).toEqual(expect.arrayContaining([expect.stringMatching(/virtual/), 'size unknown']));
    expect(all[1]?.unsafeReasons).toEqual(['system drive: holds /']);
    expect(all[1]?.system).toBe(true);
  });

  it('offers loop devices only when allowed, and refuses the read-only one', () => {
    const devices = parseLsblk(fixture('loop-partitioned-mounted.json'));
    expect(classifyDrives(devices, host(), false).map((d) => d.device)).toEqual([]);
    const withLoops = classifyDrives(devices, host({ allowLoop: true }), false);
    expect(withLoops.map((d) => d.device)).toEqual(['/dev/loop0']);
    expect(withLoops[0]?.warnings).toEqual(['mounted at /tmp/cap-mnt; it will be unmounted']);
    const all = classifyDrives(devices, host({ allowLoop: true }), true);
    expect(all.find((d) => d.device === '/dev/loop1')?.unsafeReasons).toEqual(['read-only']);
  });
});

describe('candidate filter', () => {
  it('recognises an internal SD reader that reports rm=0 from sysfs', () => {
    const reader = disk({ path: '/dev/mmcblk0', kname: 'mmcblk0', removable: false, hotplug: false, transport: null, model: null, vendor: null });
    const drive = classifyDrive(reader, host({ sysfs: () => ({ mmcType: 'SD', usb: false, removable: false }) }));
    expect(drive).toMatchObject({ readerKind: 'sd', description: 'SD card', removable: true, unsafeReasons: [] });
  });

  it('refuses an internal eMMC holding the system', () => {
    const emmc = disk({ path: '/dev/mmcblk1', kname: 'mmcblk1', removable: false, transport: null, children: [disk({ path: '/dev/mmcblk1p2', type: 'part', mountpoints: ['/'] })] });
    const drive = classifyDrive(emmc, host({ sysfs: () => ({ mmcType: 'MMC', usb: false, removable: false }) }));
    expect(drive.unsafeReasons).toEqual(['system drive: holds /']);
  });

  it('refuses a fixed internal disk that holds nothing of the system', () => {
    const data = disk({ path: '/dev/sdb', kname: 'sdb', removable: false, hotplug: false, transport: 'sata' });
    expect(classifyDrive(data, host()).unsafeReasons).toEqual(['internal fixed disk (not removable, not USB, not an SD reader)']);
  });

  it('refuses a drive whose partition is active swap or holds /boot/efi', () => {
    const swap = disk({ children: [disk({ path: '/dev/sdx1', type: 'part' })] });
    expect(classifyDrive(swap, host({ swapDevices: new Set(['/dev/sdx1']) })).unsafeReasons).toEqual(['system drive: active swap on /dev/sdx1']);
    const efi = disk({ children: [disk({ path: '/dev/sdx1', type: 'part', mountpoints: ['/boot/efi'] })] });
    expect(classifyDrive(efi, host()).unsafeReasons).toEqual(['system drive: holds /boot/efi']);
  });

  it('refuses the drive holding the source image, by device number or mount source', () => {
    const usb = disk({ children: [disk({ path: '/dev/sdx1', majMin: '8:17', type: 'part', mountpoints: ['/media/images'] })] });
    expect(classifyDrive(usb, host({ sourceHolders: new Set(['8:17']) })).unsafeReasons).toEqual(['holds the source image']);
    expect(classifyDrive(usb, host({ sourceHolders: new Set(['/dev/sdx1']) })).unsafeReasons).toEqual(['holds the source image']);
  });

  it('warns above 128 GB and refuses unknown sizes', () => {
    expect(classifyDrive(disk({ sizeBytes: 256e9 }), host()).warnings[0]).toMatch(/larger than 128 GB/);
    expect(classifyDrive(disk({ sizeBytes: 64e9 }), host()).warnings).toEqual([]);
    expect(classifyDrive(disk({ sizeBytes: null }), host()).unsafeReasons).toEqual(['size unknown']);
  });

  it('treats a USB stick as a safe target', () => {
    expect(classifyDrive(disk({}), host())).toMatchObject({ readerKind: 'usb', description: 'Generic Card Reader', unsafeReasons: [] });
  });
});

describe('system mounts, on lsblk captures of a partitioned disk (test/fixtures/lsblk/capture-system-mounts.sh)', () => {
  // Captured from a loop device (no USB disk here): loops are offered for the capture's sake and
  // held to the same system rules a USB disk is.
  const captured = (name: string): BlockDevice => {
    const [device] = parseLsblk(fixture(`loop-system-${name}.json`));
    if (!device) throw new Error(`empty capture ${name}`);
    return device;
  };

  it.each([
    ['home', '/home'],
    ['opt', '/opt'],
    ['srv', '/srv'],
    ['var', '/var'],
    ['usr', '/usr'],
    ['boot', '/boot, /boot/efi'],
  ])('refuses a disk holding /%s as a system drive', (name, held) => {
    const drive = classifyDrive(captured(name), host({ allowLoop: true }));
    expect(drive.system).toBe(true);
    expect(drive.unsafeReasons).toEqual([`system drive: holds ${held}`]);
    expect(drive.warnings).toEqual([]);
    expect(classifyDrives([captured(name)], host({ allowLoop: true }), false)).toEqual([]);
  });

  it('refuses a disk holding active swap', () => {
    const drive = classifyDrive(captured('swap'), host({ allowLoop: true }));
    expect(drive).toMatchObject({ system: true, unsafeReasons: ['system drive: active swap on /dev/loop0p3'] });
  });

  it('the same disk mounted elsewhere is a card, to be unmounted', () => {
    const [device] = parseLsblk(fixture('loop-system-opt.json').replaceAll('"/opt"', '"/media/user/CARD"'));
    expect(classifyDrive(device!, host({ allowLoop: true }))).toMatchObject({ system: false, unsafeReasons: [], warnings: ['mounted at /media/user/CARD; it will be unmounted'] });
  });

  it('system trees, home folders and a card inside a home folder', () => {
    expect(['/var/lib/docker', '/boot/firmware', '/home/alice', '/usr/local'].every(isSystemMount)).toBe(true);
    expect(['/home/alice/card', '/media/alice/boot', '/run/media/alice/rootfs', '/mnt', '/variable'].some(isSystemMount)).toBe(false);
  });

  it('matches swap on a stacked device by its kernel name, as /proc/swaps names it', () => {
    const crypt = disk({ children: [disk({ path: '/dev/sdx2', type: 'part', children: [disk({ path: '/dev/mapper/swap', kname: 'dm-1', type: 'crypt' })] })] });
    expect(classifyDrive(crypt, host({ swapDevices: new Set(['/dev/dm-1']) })).unsafeReasons).toEqual(['system drive: active swap on /dev/mapper/swap']);
  });
});

describe('host files', () => {
  it('parses /proc/swaps and mountinfo (with escaped spaces)', () => {
    expect([...parseSwaps('Filename Type Size Used Priority\n/dev/sda2 partition 100 0 -2\n/swapfile file 1 0 -3\n')]).toEqual(['/dev/sda2']);
    const info = '36 35 8:17 / /media/my\\040card rw,relatime shared:1 - vfat /dev/sdx1 rw\n37 35 0:5 / /proc rw - proc proc rw\n';
    expect(parseMountinfo(info)).toEqual([
      { majMin: '8:17', mountPoint: '/media/my card', source: '/dev/sdx1' },
      { majMin: '0:5', mountPoint: '/proc', source: 'proc' },
    ]);
  });

  it('lists the mounts of a card deepest first', () => {
    const card = disk({ children: [disk({ path: '/dev/sdx1', majMin: '8:17', type: 'part' }), disk({ path: '/dev/sdx2', majMin: '8:18', type: 'part' })] });
    const info = ['1 0 8:18 / /mnt/root rw - ext4 /dev/sdx2 rw', '2 1 8:17 / /mnt/root/boot rw - vfat /dev/sdx1 rw', '3 0 254:0 / / rw - ext4 /dev/vda rw'].join('\n');
    expect(mountsOnTree(card, info)).toEqual([
      { device: '/dev/sdx1', mountPoint: '/mnt/root/boot' },
      { device: '/dev/sdx2', mountPoint: '/mnt/root' },
    ]);
  });
});

describe('reasons and warnings as message keys (issue 15)', () => {
  it('sends each reason and warning as a key beside its English, in the same order', () => {
    const system = classifyDrive(disk({ mountpoints: ['/'], readOnly: true, sizeBytes: 256e9 }), host());
    expect(system.unsafeKeys).toEqual([
      { key: 'drive.systemHolds', params: { mounts: '/' } },
      { key: 'drive.readOnly', params: {} },
    ]);
    expect(system.unsafeReasons).toEqual(['system drive: holds /', 'read-only']);
    const mounted = classifyDrive(disk({ sizeBytes: 256e9, children: [disk({ path: '/dev/sdx1', kname: 'sdx1', type: 'part', mountpoints: ['/media/card'] })] }), host());
    expect(mounted.unsafeKeys).toEqual([]);
    expect(mounted.warningKeys).toEqual([
      { key: 'drive.large', params: { gb: 128 } },
      { key: 'drive.mounted', params: { mounts: '/media/card' } },
    ]);
    expect(mounted.warnings).toEqual(['larger than 128 GB: make sure this is a card and not a backup disk', 'mounted at /media/card; it will be unmounted']);
  });
});
