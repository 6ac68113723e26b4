import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkImxIvt, checkUboot, scanLoaders } from '../../../electron/engine/boards/detect';
import { checkFit, fitExtent, parseFdt } from '../../../electron/engine/boards/fit';
import { crc32 } from 'node:zlib';
import { fixturePath } from '../../helpers/fixtures';
import { describeWith } from '../../helpers/needs';
import { buildFdt, withExternalData } from './fdt-builder';
import { sparseDisk } from './layouts';

const payload = (length: number, seed: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * seed + 7) & 0xff);
const be32 = (value: number): Uint8Array => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
};
/** Changes bits `mask` of byte `at`. */
function flip(bytes: Uint8Array, at: number, mask: number): void {
  bytes[at] = (bytes[at] ?? 0) ^ mask;
}
const hash = (algo: string, data: Uint8Array): Uint8Array => new Uint8Array(createHash(algo).update(data).digest());

const uboot = payload(3000, 13);
const dtb = payload(600, 5);

/** A FIT with its payloads inside the tree and one hash of each kind U-Boot writes. */
function embeddedFit(): Uint8Array {
  return buildFdt({
    description: 'test FIT',
    images: {
      uboot: {
        data: uboot,
        'hash-1': { algo: 'crc32', value: be32(crc32(uboot)) },
        'hash-2': { algo: 'sha1', value: hash('sha1', uboot) },
        'hash-3': { algo: 'sha256', value: hash('sha256', uboot) },
      },
      'fdt-1': { description: 'sun50i-a64-pine64-plus', data: dtb, 'hash-1': { algo: 'md5', value: hash('md5', dtb) } },
    },
    configurations: { default: 'conf-1', 'conf-1': { description: 'a configuration', firmware: 'uboot', fdt: 'fdt-1' } },
  });
}

/** The same payloads after the tree (mkimage -E): `data-offset` from the padded end of the tree, or `data-position`. */
function externalFit(position: boolean): Uint8Array {
  const placeUboot = (tree: number): Record<string, number> => (position ? { 'data-position': ((tree + 3) & ~3) } : { 'data-offset': 0 });
  const build = (tree: number): Uint8Array =>
    buildFdt({
      images: {
        uboot: { ...placeUboot(tree), 'data-size': uboot.length, 'hash-1': { algo: 'sha256', value: hash('sha256', uboot) } },
        fdt_1: { description: 'rk3328-rock64.dtb', 'data-offset': uboot.length, 'data-size': dtb.length, 'hash-1': { algo: 'crc32', value: be32(crc32(dtb)) } },
      },
      configurations: { config_1: { description: 'rk3328-rock64.dtb', fdt: 'fdt_1' } },
    });
  // data-position names an absolute offset, so the tree's own size must be known first; it does not change with the value.
  const tree = build(build(0).length);
  const data = new Uint8Array(uboot.length + dtb.length);
  data.set(uboot);
  data.set(dtb, uboot.length);
  return withExternalData(tree, data);
}

describe('FIT payloads and hashes', () => {
  it('verifies crc32, sha1, sha256 and md5 over embedded data and names the device tree', () => {
    const check = checkFit(embeddedFit());
    expect(check).toMatchObject({ valid: true, images: 2, summary: 'hashes verified: 1 crc32, 1 sha1, 1 sha256, 1 md5' });
    expect(check.deviceTrees).toEqual(['sun50i-a64-pine64-plus']);
  });

  it('fails on one byte changed inside an embedded payload, naming the image, hash and range', () => {
    const fit = embeddedFit();
    const at = fit.indexOf(uboot[0] as number, 56) + 1000;
    fit[at] = (fit[at] ?? 0) ^ 0x01;
    const check = checkFit(fit);
    expect(check.valid).toBe(false);
    expect(check.summary).toMatch(/^image uboot hash-1 crc32 MISMATCH over \+\d+\.\.\+\d+ \(stored [0-9a-f]{8}, computed [0-9a-f]{8}\)$/);
  });

  it.each([
    ['data-offset', false],
    ['data-position', true],
  ])('checks external data placed with %s, and its extent', (_name, position) => {
    const fit = externalFit(position);
    expect(fitExtent(fit)).toBe(fit.length);
    const check = checkFit(fit);
    expect(check).toMatchObject({ valid: true, extent: fit.length, summary: 'hashes verified: 1 sha256, 1 crc32', deviceTrees: ['rk3328-rock64'] });
    const broken = fit.slice();
    flip(broken, fit.length - dtb.length - 10, 0x80);
    expect(checkFit(broken).summary).toMatch(/^image uboot hash-1 sha256 MISMATCH/);
  });

  it('fails when external data lies past the bytes available', () => {
    const fit = externalFit(false);
    expect(checkFit(fit.subarray(0, fit.length - 1))).toMatchObject({ valid: false, summary: expect.stringMatching(/^image fdt_1 data \(\+\d+, 600 bytes\) lies past the \d+ bytes available$/) });
  });

  it('reports a broken structure block with the offset of the bad token', () => {
    const fit = embeddedFit();
    const structAt = new DataView(fit.buffer).getUint32(8);
    new DataView(fit.buffer).setUint32(structAt, 7);
    expect(checkFit(fit)).toMatchObject({ valid: false, summary: `device tree structure broken at +${structAt}: unknown token 0x7` });
    expect(() => parseFdt(fit.subarray(0, 100))).toThrow(/totalsize \d+ is past the 100 bytes read/);
  });

  it('does not take a device tree without images for a FIT', () => {
    expect(checkFit(buildFdt({ model: 'Some board', compatible: ['vendor,board', 'allwinner,sun7i-a20'] }))).toMatchObject({
      valid: false,
      images: 0,
      summary: 'no image with data under /images: a device tree, not a FIT',
    });
  });

  it('checkUboot reports a FIT with its hash failure as invalid', () => {
    const fit = embeddedFit();
    expect(checkUboot(fit, 40960)).toMatchObject({ kind: 'uboot-fit', valid: true, length: fit.length, deviceTrees: ['sun50i-a64-pine64-plus'] });
    flip(fit, fit.length - 200, 0xff);
    expect(checkUboot(fit, 40960)?.valid).toBe(false);
  });
});

describe('legacy uImage', () => {
  function uImage(data: Uint8Array): Uint8Array {
    const image = new Uint8Array(64 + data.length);
    const view = new DataView(image.buffer);
    view.setUint32(0, 0x27051956);
    view.setUint32(12, data.length);
    view.setUint32(24, crc32(data));
    image.set(new TextEncoder().encode('U-Boot test'), 32);
    image.set(data, 64);
    view.setUint32(4, crc32(image.subarray(0, 64)));
    return image;
  }

  it('checks the header CRC and the data CRC over the ih_size bytes after the header', () => {
    const image = uImage(uboot);
    expect(checkUboot(image, 40960)).toMatchObject({ kind: 'uboot-uimage', valid: true, length: 3064, detail: expect.stringMatching(/header CRC ok, data CRC ok$/) });
    flip(image, 64 + 2999, 0x10);
    expect(checkUboot(image, 40960)).toMatchObject({ valid: false, detail: expect.stringMatching(/header CRC ok, data CRC MISMATCH over \+64\.\.\+3063 \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)$/) });
    expect(checkUboot(uImage(uboot).subarray(0, 64), 40960)).toMatchObject({ valid: false, detail: expect.stringMatching(/data runs past the 0 bytes available$/) });
  });

  it('is read whole when scanning a card', async () => {
    const image = uImage(uboot);
    const read = sparseDisk(1 << 20, [{ offset: 40960, bytes: image }]);
    expect((await scanLoaders(read, 1 << 20)).map((l) => [l.kind, l.valid])).toEqual([['uboot-uimage', true]]);
    flip(image, 100, 1);
    expect((await scanLoaders(sparseDisk(1 << 20, [{ offset: 40960, bytes: image }]), 1 << 20)).map((l) => [l.kind, l.valid])).toEqual([['uboot-uimage', false]]);
  });
});

const imx = (dir: string, file: string): string => fixturePath('u-boot-imx_armhf', 'usr/lib/u-boot', dir, file);
const rockchipItb = fixturePath('u-boot-rockchip_arm64', 'usr/lib/u-boot/rock64-rk3328/u-boot.itb');

describeWith([`file:${imx('wandboard', 'u-boot.img')}`, `file:${imx('mx53loco', 'u-boot-dtb.imx')}`, `file:${rockchipItb}`], 'real Debian U-Boot images', () => {
  it('wandboard u-boot.img: external data, four crc32 hashes; a flipped payload byte fails firmware-1', () => {
    const fit = new Uint8Array(readFileSync(imx('wandboard', 'u-boot.img')));
    expect(fitExtent(fit)).toBe(fit.length);
    expect(checkFit(fit)).toMatchObject({ valid: true, summary: 'hashes verified: 4 crc32', deviceTrees: ['imx6q-wandboard-revd1', 'imx6qp-wandboard-revd1', 'imx6dl-wandboard-revd1'] });
    const tree = new DataView(fit.buffer).getUint32(4);
    flip(fit, ((tree + 3) & ~3) + 4096, 0x04);
    expect(checkFit(fit).summary).toMatch(/^image firmware-1 hash-1 crc32 MISMATCH/);
  });

  it('rock64 u-boot.itb: external data without hashes is in bounds but unchecked', () => {
    const fit = new Uint8Array(readFileSync(rockchipItb));
    expect(checkFit(fit)).toMatchObject({ valid: true, extent: fit.length, images: 4, summary: 'no hashes, payload not checked', deviceTrees: ['rk3328-rock64'] });
  });

  it('tells i.MX53 from i.MX6 by the registers the DCD writes, and an SPL by where it runs', () => {
    const head = (dir: string, file: string): Uint8Array => new Uint8Array(readFileSync(imx(dir, file))).subarray(0, 1024);
    expect(checkImxIvt(head('mx53loco', 'u-boot-dtb.imx'), 1024)).toMatchObject({ soc: 'i.MX53', dcd: true, detail: expect.stringContaining('DCD writes i.MX53 registers (0x53fa8554)') });
    expect(checkImxIvt(head('mx6qsabrelite', 'u-boot-dtb.imx'), 1024)).toMatchObject({ soc: 'i.MX6', dcd: true, detail: expect.stringContaining('DCD writes i.MX6 registers (0x020e05a8)') });
    expect(checkImxIvt(head('wandboard', 'SPL'), 1024)).toMatchObject({ soc: 'i.MX6', dcd: false, detail: expect.stringContaining('runs from i.MX6 on-chip RAM') });
  });
});
