/**
 * Loader sources end to end: a .deb missing the board's files, a .deb served over real HTTP on
 * 127.0.0.1, loader files already inside the image's ext4 root (Fedora's /usr/share/uboot), a
 * single renamed file, refusals for boards with nothing to write, and a real loop device.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildGpt } from '../../../electron/engine/disk/gpt';
import { debPath, fixturePath } from '../../helpers/fixtures';
import { attachLoop, detachLoop } from '../../helpers/loop';
import { describeWith } from '../../helpers/needs';
import { blankMbrImage, install, MiB } from './images';

const work = mkdtempSync(join(tmpdir(), 'cardsmith-sources-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const SUNXI_DIR = fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot/Cubietruck');
const SUNXI_SPL = join(SUNXI_DIR, 'u-boot-sunxi-with-spl.bin');

describeWith([`file:${debPath('u-boot-sunxi_armhf')}`, `file:${fixturePath('u-boot-sunxi_armhf', '.complete')}`], 'loader sources', () => {
  it('a .deb without the board files names the package, the path and what it contains', async () => {
    const image = join(work, 'wrong-deb.img');
    blankMbrImage(image, 8 * MiB, 1 * MiB);
    const outcome = await install('pine64-plus', image, debPath('u-boot-sunxi_armhf'));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.cause).toBe('bad-input');
    expect(outcome.error.message).toContain(`Package ${debPath('u-boot-sunxi_armhf')} has no usr/lib/u-boot/pine64_plus/sunxi-spl.bin`);
    expect(outcome.error.message).toContain('expected u-boot-sunxi:arm64');
    expect(outcome.error.message).toContain('it contains: usr/lib/u-boot/A10-OLinuXino-Lime');
    expect(outcome.error.details?.contains).toContain('usr/lib/u-boot/Cubietruck');
    expect(readFileSync(image).subarray(8192, 8200).every((byte) => byte === 0)).toBe(true);
  });

  httpSourceCases();

  it('takes one renamed file as the board single loader file', async () => {
    const renamed = join(work, 'my-cubietruck-loader.bin');
    copyFileSync(SUNXI_SPL, renamed);
    const image = join(work, 'renamed.img');
    blankMbrImage(image, 8 * MiB, 1 * MiB);
    const outcome = await install('cubietruck', image, renamed);
    expect(outcome.ok && outcome.result.writes).toEqual([{ file: 'u-boot-sunxi-with-spl.bin', offset: 8192, length: readFileSync(SUNXI_SPL).length }]);
  });

  it('refuses boards with nothing at raw offsets, saying where their files go', async () => {
    const image = join(work, 'rpi.img');
    blankMbrImage(image, 8 * MiB, 1 * MiB);
    const rpi = await install('rpi-3-b', image, SUNXI_DIR);
    expect(!rpi.ok && rpi.error.message).toMatch(/no loader at raw card offsets; its files \(bootcode.bin, .*u-boot.bin, config.txt\) go into the first FAT partition/);
    const tegra = await install('jetson-tk1', image);
    expect(!tegra.ok && tegra.error.message).toMatch(/Jetson TK1 has no loader at raw card offsets \(U-Boot lives in the on-board eMMC/);
  });

  it('falls back to the 128 KiB location when a standard GPT occupies 8 KiB (H3), and refuses where there is none (A20)', async () => {
    const image = join(work, 'gpt.img');
    const size = 16 * MiB;
    const built = buildGpt({
      diskSectors: size / 512,
      diskGuid: '3F0A8E8C-1B2D-4E5F-8A9B-0C1D2E3F4A5B',
      partitions: [{ typeGuid: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', uniqueGuid: '3F0A8E8C-1B2D-4E5F-8A9B-0C1D2E3F4A60', firstLba: 2048, lastLba: size / 512 - 40, name: 'root' }],
    });
    blankMbrImage(image, size, 0);
    const fd = openSync(image, 'r+');
    try {
      for (const piece of built.writes) writeSync(fd, piece.bytes, 0, piece.bytes.length, piece.offset);
    } finally {
      closeSync(fd);
    }
    const gptBefore = readFileSync(image).subarray(512, 17408);
    const a20 = await install('cubietruck', image, SUNXI_DIR);
    expect(!a20.ok && a20.error.message).toMatch(/overlaps the GPT entry array \(bytes 1024\.\.17407\)/);
    const h3Dir = fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot/orangepi_zero');
    const h3 = await install('orangepi-zero', image, h3Dir);
    expect(h3.ok ? h3.result.writes.map((write) => write.offset) : h3.error.message).toEqual([128 * 1024]);
    expect(h3.events.some((event) => event.type === 'log' && event.message.includes('128 KiB'))).toBe(true);
    expect(readFileSync(image).subarray(512, 17408).equals(gptBefore)).toBe(true);
  });

  it('an unknown board lists the closest ids', async () => {
    const image = join(work, 'unknown.img');
    blankMbrImage(image, 8 * MiB, 1 * MiB);
    const outcome = await install('pine64plus', image, SUNXI_DIR);
    expect(!outcome.ok && outcome.error).toMatchObject({ cause: 'unknown-board', message: expect.stringMatching(/^Unknown board "pine64plus"; closest: pine64-plus/) });
  });

  it('refuses an image whose first partition starts too early, stating the minimum', async () => {
    const image = join(work, 'early.img');
    blankMbrImage(image, 8 * MiB, 512 * 1024 + 0);
    const outcome = await install('cubietruck', image, SUNXI_DIR);
    expect(!outcome.ok && outcome.error.cause).toBe('overlap');
    expect(!outcome.ok && outcome.error.message).toMatch(/overlaps the partition 1 \(bytes 524288\.\./);
  });
});

function httpSourceCases(): void {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/pool/u-boot-sunxi_armhf.deb') {
        response.writeHead(200, { 'content-type': 'application/vnd.debian.binary-package' });
        response.end(readFileSync(debPath('u-boot-sunxi_armhf')));
      } else {
        response.writeHead(404);
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('installs from a .deb URL served over HTTP, identical to the local folder', async () => {
    const viaUrl = join(work, 'url.img');
    const viaDir = join(work, 'dir.img');
    blankMbrImage(viaUrl, 8 * MiB, 1 * MiB);
    copyFileSync(viaUrl, viaDir);
    const outcome = await install('cubietruck', viaUrl, `${base}/pool/u-boot-sunxi_armhf.deb`);
    expect(outcome.ok ? outcome.result.writes[0]?.offset : outcome.error.message).toBe(8192);
    expect((await install('cubietruck', viaDir, SUNXI_DIR)).ok).toBe(true);
    expect(readFileSync(viaUrl).equals(readFileSync(viaDir))).toBe(true);
  });

  it('reports a missing URL as a network error', async () => {
    const image = join(work, 'url404.img');
    blankMbrImage(image, 8 * MiB, 1 * MiB);
    const outcome = await install('cubietruck', image, `${base}/pool/nothing.deb`);
    expect(!outcome.ok && outcome.error.cause).toBe('network');
  });
}

describeWith(['tool:mkfs.ext4', 'tool:debugfs', `file:${fixturePath('u-boot-sunxi_armhf', '.complete')}`], 'loader files inside the image', () => {
  it('reads /usr/share/uboot/<target>/ from the image ext4 root, as Fedora images carry it', async () => {
    const rootDir = join(work, 'rootfs');
    mkdirSync(join(rootDir, 'usr/share/uboot/Cubietruck'), { recursive: true });
    copyFileSync(SUNXI_SPL, join(rootDir, 'usr/share/uboot/Cubietruck/u-boot-sunxi-with-spl.bin'));
    const fs = join(work, 'root.ext4');
    execFileSync('truncate', ['-s', '16M', fs]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-d', rootDir, fs]);
    const image = join(work, 'fedora-like.img');
    blankMbrImage(image, 1 * MiB + 16 * MiB, 1 * MiB);
    const fd = openSync(image, 'r+');
    try {
      writeSync(fd, readFileSync(fs), 0, 16 * MiB, 1 * MiB);
    } finally {
      closeSync(fd);
    }
    const outcome = await install('cubietruck', image, 'image:/usr/share/uboot/Cubietruck');
    expect(outcome.ok ? outcome.result.writes : outcome.error.message).toEqual([{ file: 'u-boot-sunxi-with-spl.bin', offset: 8192, length: readFileSync(SUNXI_SPL).length }]);
    expect(readFileSync(image).subarray(8192, 8192 + 1024).equals(readFileSync(SUNXI_SPL).subarray(0, 1024))).toBe(true);
    const missing = await install('cubietruck', image, 'image:/usr/share/uboot/Nope');
    expect(!missing.ok && missing.error.message).toMatch(/No ext2\/3\/4 partition of .* holds \/usr\/share\/uboot\/Nope/);
  });
});

describeWith(['root', 'tool:losetup', `file:${fixturePath('u-boot-sunxi_armhf', '.complete')}`], 'installing onto a block device', () => {
  it('writes a loop device only when loop devices are allowed, and reads it back', async () => {
    const backing = join(work, 'card.img');
    blankMbrImage(backing, 16 * MiB, 1 * MiB);
    const device = attachLoop(backing);
    try {
      const refused = await install('cubietruck', device, SUNXI_DIR, false);
      expect(!refused.ok && refused.error.cause).toBe('unsafe-target');
      const outcome = await install('cubietruck', device, SUNXI_DIR, true);
      expect(outcome.ok ? outcome.result.writes[0]?.offset : outcome.error.message).toBe(8192);
    } finally {
      detachLoop(device);
    }
    expect(readFileSync(backing).subarray(8192, 8192 + 4096).equals(readFileSync(SUNXI_SPL).subarray(0, 4096))).toBe(true);
  });
});
