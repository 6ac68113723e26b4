/**
 * `bootloader install` reads the card back, not the page cache: on a card that accepts writes and
 * loses them (a loop device over flash/fuse-eio.c's file, which always reads zeros) the install
 * fails with the lost byte ranges; on a real loop device it passes and the card holds the file.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fixturePath } from '../../helpers/fixtures';
import { readBytesAt } from '../../helpers/bytes';
import { attachLoop, detachLoop, withLoopDevice } from '../../helpers/loop';
import { describeWith } from '../../helpers/needs';
import { install, MiB } from './images';

const work = mkdtempSync(join(tmpdir(), 'cardsmith-install-readback-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const DIR = fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot/Linksprite_pcDuino3');
const FILE = join(DIR, 'u-boot-sunxi-with-spl.bin');

describeWith(['root', 'tool:losetup', 'tool:cc', 'tool:pkg-config', 'tool:fusermount3', 'file:/dev/fuse', `file:${FILE}`], 'bootloader install readback', () => {
  let binary: string;
  beforeAll(() => {
    binary = join(work, 'fuse-eio');
    const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'fuse3'], { encoding: 'utf8' }).trim().split(/\s+/);
    execFileSync('cc', ['-O1', '-o', binary, join(__dirname, '..', 'flash', 'fuse-eio.c'), ...flags]);
  });

  it('fails with the lost ranges on a card that drops what was written', async () => {
    const mount = join(work, 'mnt');
    mkdirSync(mount);
    // No bad range: every write is accepted, and every read returns zeros.
    const fuse = spawn(binary, [mount, `${16 * MiB}`, '0', '0'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && !existsSync(join(mount, 'card')); i++) await new Promise((r) => setTimeout(r, 100));
      const device = attachLoop(join(mount, 'card'));
      try {
        const outcome = await install('pcduino3', device, DIR, true);
        expect(outcome.ok).toBe(false);
        if (outcome.ok) return;
        expect(outcome.error).toMatchObject({ cause: 'checksum-mismatch', details: { file: 'u-boot-sunxi-with-spl.bin', offset: 8192 } });
        expect(outcome.error.message).toMatch(/^Read-back of u-boot-sunxi-with-spl\.bin at byte 8192 differs from what was written: bytes 8192\.\./);
        const ranges = (outcome.error.details as { mismatches: { start: number; end: number }[] }).mismatches;
        expect(ranges[0]?.start).toBe(8192);
      } finally {
        detachLoop(device);
      }
    } finally {
      spawnSync('fusermount3', ['-u', mount]);
      fuse.kill();
    }
  });

  it('passes on a loop device that keeps it, which then holds the file', async () => {
    await withLoopDevice({ sizeBytes: 16 * MiB }, async (loop) => {
      const outcome = await install('pcduino3', loop.device, DIR, true);
      expect(outcome.ok ? outcome.result.writes : outcome.error.message).toEqual([{ file: 'u-boot-sunxi-with-spl.bin', offset: 8192, length: readFileSync(FILE).length }]);
      expect(readBytesAt(loop.device, 8192, readFileSync(FILE).length).equals(readFileSync(FILE))).toBe(true);
    });
  });
});
