/**
 * `bootloader install` reads the card back, not the page cache: on a card that accepts writes and
 * loses them (a FUSE card that keeps nothing: helpers/fuse-card.ts, reads are zeros) the install
 * fails with the lost byte ranges; on a real loop device it passes and the card holds the file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { fixturePath } from '../../helpers/fixtures';
import { readBytesAt } from '../../helpers/bytes';
import { FUSE_CARD_NEEDS, withFuseCard } from '../../helpers/fuse-card';
import { withLoopDevice } from '../../helpers/loop';
import { describeWith } from '../../helpers/needs';
import { install, MiB } from './images';

const work = mkdtempSync(join(tmpdir(), 'cardsmith-install-readback-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const DIR = fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot/Linksprite_pcDuino3');
const FILE = join(DIR, 'u-boot-sunxi-with-spl.bin');

describeWith([...FUSE_CARD_NEEDS, `file:${FILE}`], 'bootloader install readback', () => {
  it('fails with the lost ranges on a card that drops what was written', async () => {
    // A card that keeps nothing: every write is accepted, and every read returns zeros.
    await withFuseCard({ sizeBytes: 16 * MiB }, async (device) => {
      const outcome = await install('pcduino3', device, DIR, true);
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(outcome.error).toMatchObject({ cause: 'checksum-mismatch', details: { file: 'u-boot-sunxi-with-spl.bin', offset: 8192 } });
      expect(outcome.error.message).toMatch(/^Read-back of u-boot-sunxi-with-spl\.bin at byte 8192 differs from what was written: bytes 8192\.\./);
      const ranges = (outcome.error.details as { mismatches: { start: number; end: number }[] }).mismatches;
      expect(ranges[0]?.start).toBe(8192);
    });
  });

  it('passes on a loop device that keeps it, which then holds the file', async () => {
    await withLoopDevice({ sizeBytes: 16 * MiB }, async (loop) => {
      const outcome = await install('pcduino3', loop.device, DIR, true);
      expect(outcome.ok ? outcome.result.writes : outcome.error.message).toEqual([{ file: 'u-boot-sunxi-with-spl.bin', offset: 8192, length: readFileSync(FILE).length }]);
      expect(readBytesAt(loop.device, 8192, readFileSync(FILE).length).equals(readFileSync(FILE))).toBe(true);
    });
  });
});
