/**
 * A drive's reader from sysfs: captured-like trees (a two-slot USB reader whose SCSI disks carry
 * no serial of their own, an SD card in an mmc host) built as real files and symlinks the way
 * /sys lays them out, and a real loop device through the scanner (its reader is its backing file).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readerOf } from '../../../electron/engine/drives/reader';
import { scanDrives } from '../../../electron/engine/drives/scan';
import { attachLoop, createSparseFile, detachLoop } from '../../helpers/loop';
import { describeWith } from '../../helpers/needs';

const sys = mkdtempSync(join(tmpdir(), 'cardsmith-sysfs-'));
afterAll(() => rmSync(sys, { recursive: true, force: true }));

function file(path: string, text: string): void {
  mkdirSync(dirname(join(sys, path)), { recursive: true });
  writeFileSync(join(sys, path), `${text}\n`);
}

/** /sys/block/<kname> → the disk's node under devices/, and its `device` link → the parent (as the kernel links them). */
function disk(kname: string, parent: string): void {
  const node = join(sys, parent, 'block', kname);
  mkdirSync(node, { recursive: true });
  symlinkSync(relative(node, join(sys, parent)), join(node, 'device'));
  mkdirSync(join(sys, 'block'), { recursive: true });
  symlinkSync(relative(join(sys, 'block'), node), join(sys, 'block', kname));
}

const USB = 'devices/pci0000:00/0000:00:14.0/usb1/1-2';
const LUN0 = `${USB}/1-2:1.0/host6/target6:0:0/6:0:0:0`;
const LUN1 = `${USB}/1-2:1.0/host6/target6:0:0/6:0:0:1`;
const MMC = 'devices/platform/fe320000.mmc/mmc_host/mmc1/mmc1:59b4';

file(`${USB}/idVendor`, '05e3');
file(`${USB}/serial`, '000000000819');
for (const lun of [LUN0, LUN1]) {
  file(`${lun}/vendor`, 'Generic ');
  file(`${lun}/model`, 'STORAGE DEVICE  ');
}
disk('sdb', LUN0);
disk('sdc', LUN1);
file(`${MMC}/name`, 'SD32G');
file(`${MMC}/serial`, '0x7d4a2c11');
disk('mmcblk1', MMC);

describe('readerOf (sysfs trees)', () => {
  it('names a USB reader slot by its SCSI inquiry, the USB serial above it and its LUN path', () => {
    expect(readerOf('sdb', sys)).toEqual({ vendor: 'Generic', model: 'STORAGE DEVICE', serial: '000000000819', path: join(sys, LUN0) });
    // The reader's second slot: same reader serial, a port path of its own.
    expect(readerOf('sdc', sys).path).toBe(join(sys, LUN1));
    expect(readerOf('sdc', sys).path?.startsWith(join(sys, USB))).toBe(true);
  });

  it("names an SD card in an mmc host by the card's name and serial", () => {
    expect(readerOf('mmcblk1', sys)).toEqual({ vendor: null, model: 'SD32G', serial: '0x7d4a2c11', path: join(sys, MMC) });
  });

  it('gives nulls for a device sysfs knows nothing about', () => {
    expect(readerOf('sdz', sys)).toEqual({ vendor: null, model: null, serial: null, path: null });
  });
});

describeWith(['root', 'tool:losetup', 'tool:lsblk'], 'the scanner fills each drive\'s reader', () => {
  it("gives a loop device its backing file as the reader's path", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardsmith-reader-loop-'));
    const backing = join(dir, 'card.img');
    createSparseFile(backing, 4 * 1024 * 1024);
    const device = attachLoop(backing);
    try {
      const drive = (await scanDrives({ all: true, allowLoop: true })).find((d) => d.device === device);
      expect(drive?.reader).toEqual({ vendor: null, model: null, serial: null, path: backing });
    } finally {
      detachLoop(device);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
