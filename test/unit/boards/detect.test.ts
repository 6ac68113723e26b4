import { describe, expect, it } from 'vitest';
import { checkEgon, checkFip, checkImxIvt, checkTiToc, checkUboot, egonChecksum, scanLoaders } from '../../../electron/engine/boards/detect';
import { crc32 } from 'node:zlib';
import { buildFdt } from './fdt-builder';
import { sparseDisk } from './layouts';

/** A minimal eGON.BT0 SPL header (v2, with a device-tree name) and a correct checksum. */
function egonImage(length: number, dt: string): Uint8Array {
  const image = new Uint8Array(length);
  const view = new DataView(image.buffer);
  image.set([0x16, 0x00, 0x00, 0xea]);
  image.set(new TextEncoder().encode('eGON.BT0'), 4);
  view.setUint32(16, length, true);
  image.set(new TextEncoder().encode('SPL'), 0x14);
  image[0x17] = 2;
  view.setUint32(0x20, 0x2c, true);
  image.set(new TextEncoder().encode(dt), 0x2c);
  for (let at = 0x80; at < length; at++) image[at] = (at * 7) & 0xff;
  view.setUint32(12, egonChecksum(image, length), true);
  return image;
}

describe('eGON.BT0', () => {
  it('verifies the checksum and reads the device-tree name', () => {
    const found = checkEgon(egonImage(24576, 'sun7i-a20-pcduino3'), 8192);
    expect(found).toMatchObject({ kind: 'allwinner-egon', offset: 8192, length: 24576, valid: true });
    expect(found?.detail).toMatch(/verified, device tree sun7i-a20-pcduino3$/);
  });

  it('reports a damaged image as invalid with both checksums', () => {
    const image = egonImage(24576, 'sun7i-a20-pcduino3');
    image[5000] = (image[5000] ?? 0) ^ 0xff;
    const found = checkEgon(image, 8192);
    expect(found?.valid).toBe(false);
    expect(found?.detail).toMatch(/MISMATCH \(computed 0x[0-9a-f]+\)/);
  });

  it('is the sum of little-endian words with the checksum field taken as the stamp 0x5F0A6C39', () => {
    const image = new Uint8Array(32);
    image[0] = 1;
    image[12] = 0xff;
    expect(egonChecksum(image, 32)).toBe((1 + 0x5f0a6c39) >>> 0);
  });
});

describe('other loader headers', () => {
  it('recognises an i.MX IVT and checks its pointers', () => {
    const ivt = new Uint8Array(64);
    const view = new DataView(ivt.buffer);
    ivt.set([0xd1, 0x00, 0x20, 0x40]);
    view.setUint32(4, 0x00908000, true);
    view.setUint32(0x10, 0x00907420, true);
    view.setUint32(0x14, 0x00907400, true);
    expect(checkImxIvt(ivt, 1024)).toMatchObject({ kind: 'imx-ivt', valid: true });
    view.setUint32(0x14, 0, true);
    expect(checkImxIvt(ivt, 1024)?.valid).toBe(false);
    expect(checkImxIvt(new Uint8Array(64), 1024)).toBeNull();
  });

  it('recognises a TI CHSETTINGS table of contents', () => {
    const toc = new Uint8Array(64);
    toc.set([0x40, 0, 0, 0, 0x0c, 0, 0, 0]);
    toc.set(new TextEncoder().encode('CHSETTINGS'), 0x14);
    expect(checkTiToc(toc, 131072)).toMatchObject({ kind: 'ti-toc', valid: true });
  });

  it('checks a legacy uImage header CRC', () => {
    const image = new Uint8Array(64 + 1000);
    const view = new DataView(image.buffer);
    view.setUint32(0, 0x27051956);
    view.setUint32(12, 1000);
    view.setUint32(24, crc32(image.subarray(64)));
    image.set(new TextEncoder().encode('U-Boot test'), 32);
    view.setUint32(4, crc32(image.subarray(0, 64)));
    expect(checkUboot(image, 40960)).toMatchObject({ kind: 'uboot-uimage', valid: true, length: 1064 });
    image[40] = (image[40] ?? 0) ^ 1;
    expect(checkUboot(image, 40960)).toMatchObject({ valid: false, detail: expect.stringContaining('header CRC MISMATCH') });
  });

  it('recognises a TF-A FIP table of contents', () => {
    const toc = new Uint8Array(8);
    new DataView(toc.buffer).setUint32(0, 0xaa640001, true);
    new DataView(toc.buffer).setUint32(4, 0x12345678, true);
    expect(checkFip(toc, 4096)).toMatchObject({ kind: 'amlogic-fip', valid: true });
  });

  it('scans a card for loaders at the offsets boards use', async () => {
    const spl = egonImage(32768, 'sun50i-a64-pine64-plus');
    const fit = buildFdt({ images: { uboot: { data: new Uint8Array(100) } }, configurations: { 'config-1': { description: 'sun50i-a64-pine64-plus', fdt: 'fdt-1' } } });
    const found = await scanLoaders(sparseDisk(4 << 20, [{ offset: 8192, bytes: spl }, { offset: 40960, bytes: fit }]), 4 << 20);
    expect(found.map((loader) => [loader.kind, loader.offset, loader.valid])).toEqual([
      ['allwinner-egon', 8192, true],
      ['uboot-fit', 40960, true],
    ]);
  });
});
