import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkEgon } from '../../boot/egon';
import { parseConfigTxt } from '../../boot/rpi-firmware';
import { fixturePath } from '../../helpers/fixtures';
import { describeWith } from '../../helpers/needs';

const spl = fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot/nanopi_neo/u-boot-sunxi-with-spl.bin');

describeWith([`file:${spl}`], 'eGON.BT0 check of the Debian SPL', () => {
  it('accepts the Debian nanopi_neo SPL and rejects it damaged or shifted', () => {
    const good = readFileSync(spl);
    expect(checkEgon(good)).toMatchObject({ ok: true });
    const zeroed = Buffer.from(good);
    zeroed.writeUInt32LE(0, 12);
    expect(checkEgon(zeroed)).toMatchObject({ ok: false, reason: expect.stringMatching(/checksum/) });
    const flipped = Buffer.from(good);
    flipped[1000] = flipped[1000]! ^ 0x40;
    expect(checkEgon(flipped)).toMatchObject({ ok: false, reason: expect.stringMatching(/checksum/) });
    expect(checkEgon(Buffer.concat([Buffer.alloc(1024), good]))).toMatchObject({ ok: false, reason: expect.stringMatching(/magic/) });
  });
});

describe('eGON.BT0 check', () => {
  it('checks the length field and the arithmetic on a synthetic header', () => {
    const image = Buffer.alloc(64);
    image.write('eGON.BT0', 4, 'latin1');
    image.writeUInt32LE(64, 16);
    image.writeUInt32LE(0xdeadbeef, 40);
    let sum = 0x5f0a6c39;
    for (let offset = 0; offset < 64; offset += 4) if (offset !== 12) sum = (sum + image.readUInt32LE(offset)) >>> 0;
    image.writeUInt32LE(sum, 12);
    expect(checkEgon(image)).toEqual({ ok: true, length: 64, checksum: sum });
    image.writeUInt32LE(62, 16);
    expect(checkEgon(image)).toMatchObject({ ok: false, reason: expect.stringMatching(/multiple of 4/) });
    image.writeUInt32LE(128, 16);
    expect(checkEgon(image)).toMatchObject({ ok: false, reason: expect.stringMatching(/runs past/) });
  });
});

describe('config.txt as the Pi 3 firmware reads it', () => {
  it('takes kernel= and device_tree= from [all]/[pi3] sections and skips others', () => {
    const text = '# boot\narm_64bit=1\n[pi4]\nkernel=pi4.bin\n[pi3]\nkernel=u-boot.bin\n[all]\nenable_uart=1 # uart\ndevice_tree=bcm2837-rpi-3-b.dtb\n';
    expect(parseConfigTxt(text)).toEqual({ kernel: 'u-boot.bin', deviceTrees: ['bcm2837-rpi-3-b.dtb'] });
  });

  it('falls back to the firmware defaults', () => {
    expect(parseConfigTxt('arm_64bit=1\n')).toEqual({ kernel: 'kernel8.img', deviceTrees: ['bcm2710-rpi-3-b.dtb'] });
    expect(parseConfigTxt('')).toEqual({ kernel: 'kernel7.img', deviceTrees: ['bcm2710-rpi-3-b.dtb'] });
    expect(parseConfigTxt('upstream_kernel=1\n').deviceTrees).toEqual(['bcm2837-rpi-3-b.dtb', 'bcm2710-rpi-3-b.dtb']);
  });
});
