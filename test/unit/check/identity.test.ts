import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { identityKey, readIdentity } from '../../../electron/engine/check/identity';

const GiB = 2 ** 30;
const sysfs = mkdtempSync(join(tmpdir(), 'cardsmith-sysfs-'));
afterAll(() => rmSync(sysfs, { recursive: true, force: true }));

function files(dir: string, entries: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, value] of Object.entries(entries)) writeFileSync(join(dir, name), `${value}\n`);
}

/** /sys/dev/block/<key> → the disk's folder, whose `device` link points at `device`. */
function disk(key: string, name: string, device: string): void {
  const block = join(sysfs, 'devices', name);
  mkdirSync(block, { recursive: true });
  mkdirSync(join(sysfs, 'dev/block'), { recursive: true });
  symlinkSync(block, join(sysfs, 'dev/block', key));
  symlinkSync(device, join(block, 'device'));
}

const SD_CID = { manfid: '0x000003', oemid: '0x5344', name: 'SC64G', hwrev: '0x8', fwrev: '0x0', date: '06/2021', serial: '0x1a2b3c4d', cid: '035344534336344780' };

describe('card identity', () => {
  it('keys an SD card by its CID serial with maker, OEM and name, whatever its size or slot', () => {
    const a = identityKey('sd', SD_CID, 64 * GiB);
    expect(a).toBe('sd:0x000003:0x5344:sc64g:0x1a2b3c4d');
    expect(identityKey('sd', { ...SD_CID, date: '01/2020', hwrev: '0x9' }, 8 * GiB)).toBe(a);
    expect(identityKey('sd', { ...SD_CID, serial: '0x1a2b3c4e' }, 64 * GiB)).not.toBe(a);
    expect(identityKey('sd', { ...SD_CID, manfid: '0x000027' }, 64 * GiB)).not.toBe(a);
  });

  it('keys a card behind a USB reader by the reader and the size the card claims', () => {
    const reader = { idVendor: '0bda', idProduct: '0109', serial: '20120501030900000', vendor: 'Generic-', model: 'SD/MMC  ' };
    const key = identityKey('usb', reader, 128 * GiB);
    expect(key).toBe(`usb:0bda:0109:20120501030900000:generic-:sd/mmc:${128 * GiB}`);
    expect(identityKey('usb', reader, 8 * GiB)).not.toBe(key);
    expect(identityKey('usb', { ...reader, serial: '2' }, 128 * GiB)).not.toBe(key);
    expect(identityKey('usb', { ...reader, serial: undefined as unknown as string }, 1)).toBe('usb:0bda:0109:-:generic-:sd/mmc:1');
  });

  it('reads the CID of a native SD slot, the USB reader above a SCSI disk, and a loop backing file from sysfs', () => {
    files(join(sysfs, 'devices/mmc0/mmc0:aaaa'), SD_CID);
    disk('179:0', 'mmcblk0', join(sysfs, 'devices/mmc0/mmc0:aaaa'));
    expect(readIdentity('179:0', 64 * GiB, sysfs)).toEqual({ kind: 'sd', key: 'sd:0x000003:0x5344:sc64g:0x1a2b3c4d', fields: SD_CID });

    const usb = join(sysfs, 'devices/usb1/1-1');
    files(usb, { idVendor: '0bda', idProduct: '0109', manufacturer: 'Realtek', product: 'USB3.0-CRW', serial: '2012' });
    files(join(usb, '1-1:1.0/host2/target2:0:0/2:0:0:0'), { vendor: 'Generic-', model: 'SD/MMC' });
    disk('8:16', 'sdb', join(usb, '1-1:1.0/host2/target2:0:0/2:0:0:0'));
    const reader = readIdentity('8:16', 32 * GiB, sysfs);
    expect(reader).toMatchObject({ kind: 'usb', fields: { product: 'USB3.0-CRW', model: 'SD/MMC', serial: '2012' } });
    expect(reader.key).toBe(`usb:0bda:0109:2012:generic-:sd/mmc:${32 * GiB}`);

    files(join(sysfs, 'devices/loop3/loop'), { backing_file: '/tmp/card.img' });
    mkdirSync(join(sysfs, 'dev/block'), { recursive: true });
    symlinkSync(join(sysfs, 'devices/loop3'), join(sysfs, 'dev/block/7:3'));
    expect(readIdentity('7:3', GiB, sysfs)).toMatchObject({ kind: 'loop', key: `loop:/tmp/card.img:${GiB}` });
    expect(readIdentity('9:9', GiB, sysfs)).toMatchObject({ kind: 'other', key: `other:-:-:-:${GiB}` });
  });
});
