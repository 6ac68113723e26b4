/**
 * FIT checks against images U-Boot's own mkimage writes: payloads inside the tree, after it
 * (-E: data-offset) and at a fixed position (-E -p: data-position), with crc32, sha1, sha256 and
 * md5 hashes. Every variant passes as written and fails with one payload byte changed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { checkUboot } from '../../../electron/engine/boards/detect';
import { checkFit, fitExtent } from '../../../electron/engine/boards/fit';
import { describeWith } from '../../helpers/needs';

const work = mkdtempSync(join(tmpdir(), 'cardsmith-fit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const firmware = Buffer.from(Array.from({ length: 70_001 }, (_, i) => (i * 31 + 3) & 0xff));
const dtb = Buffer.from(Array.from({ length: 5_003 }, (_, i) => (i * 17 + 1) & 0xff));

const its = `/dts-v1/;
/ {
  description = "cardsmith test FIT";
  #address-cells = <1>;
  images {
    firmware-1 {
      description = "U-Boot";
      data = /incbin/("${join(work, 'firmware.bin')}");
      type = "firmware"; arch = "arm"; os = "u-boot"; compression = "none"; load = <0x17800000>;
      hash-1 { algo = "sha256"; };
      hash-2 { algo = "md5"; };
    };
    fdt-1 {
      description = "imx6q-wandboard-revd1";
      data = /incbin/("${join(work, 'board.dtb')}");
      type = "flat_dt"; arch = "arm"; compression = "none";
      hash-1 { algo = "sha1"; };
      hash-2 { algo = "crc32"; };
    };
  };
  configurations {
    default = "conf-1";
    conf-1 { description = "imx6q-wandboard-revd1"; firmware = "firmware-1"; fdt = "fdt-1"; };
  };
};
`;

/** Flips one byte of `fit` in the firmware payload: the first occurrence of a 16-byte run of it. */
function damageFirmware(fit: Buffer): Buffer {
  const copy = Buffer.from(fit);
  const at = copy.indexOf(firmware.subarray(40_000, 40_016));
  expect(at).toBeGreaterThan(0);
  copy[at + 5] = (copy[at + 5] ?? 0) ^ 0x20;
  return copy;
}

describeWith(['tool:mkimage', 'tool:dtc'], 'FIT images written by mkimage', () => {
  it.each([
    ['embedded data', [] as string[], 'data'],
    ['external data (data-offset)', ['-E'], 'data-offset'],
    ['external data at a position (data-position)', ['-E', '-p', '0x1000'], 'data-position'],
  ])('%s', (_name, flags, property) => {
    writeFileSync(join(work, 'firmware.bin'), firmware);
    writeFileSync(join(work, 'board.dtb'), dtb);
    writeFileSync(join(work, 'test.its'), its);
    const out = join(work, `test-${property}.itb`);
    execFileSync('mkimage', [...flags, '-f', join(work, 'test.its'), out], { stdio: 'ignore' });
    const fit = readFileSync(out);
    expect(execFileSync('fdtget', ['-p', out, '/images/firmware-1'], { encoding: 'utf8' }).split('\n')).toContain(property);

    // mkimage pads every external payload, the last one included, to 4 bytes.
    expect((fitExtent(new Uint8Array(fit)) + 3) & ~3).toBe(fit.length);
    expect(checkFit(new Uint8Array(fit))).toMatchObject({ valid: true, images: 2, summary: 'hashes verified: 1 sha256, 1 md5, 1 sha1, 1 crc32', deviceTrees: ['imx6q-wandboard-revd1'] });
    const damaged = checkUboot(new Uint8Array(damageFirmware(fit)), 70656);
    expect(damaged).toMatchObject({ kind: 'uboot-fit', valid: false });
    expect(damaged?.detail).toMatch(/image firmware-1 hash-1 sha256 MISMATCH/);
  });
});
