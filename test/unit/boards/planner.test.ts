import { describe, expect, it } from 'vitest';
import { findBoard } from '../../../electron/engine/boards/db';
import type { Board } from '../../../electron/engine/boards/model';
import { chooseWrites, gptEntryArrayStart, minFirstPartitionStart, planLoaderWrites } from '../../../electron/engine/boards/planner';
import { CardsmithError } from '../../../electron/engine/errors';
import { gptLayout, KiB, mbrLayout, MiB } from './layouts';

const sizes = (entries: Record<string, number>): Map<string, number> => new Map(Object.entries(entries));

function refusal(run: () => unknown): CardsmithError {
  try {
    run();
  } catch (error) {
    if (error instanceof CardsmithError) return error;
    throw error;
  }
  throw new Error('expected a CardsmithError');
}

describe('planLoaderWrites', () => {
  it('places a sunxi loader at 8 KiB on a blank MBR card', async () => {
    const layout = await mbrLayout(32 * MiB, [[1 * MiB, 16 * MiB]]);
    const plan = planLoaderWrites(findBoard('cubietruck'), layout, sizes({ 'u-boot-sunxi-with-spl.bin': 612352 }));
    expect(plan).toEqual([{ file: 'u-boot-sunxi-with-spl.bin', offset: 8192, sourceOffset: 0, length: 612352, slotEnd: 1 * MiB }]);
  });

  it('orders split loaders by card offset (sunxi64 SPL @ 8 KiB, FIT @ 40 KiB)', async () => {
    const layout = await mbrLayout(32 * MiB, [[1 * MiB, 16 * MiB]]);
    const plan = planLoaderWrites(findBoard('pine64-plus'), layout, sizes({ 'u-boot-sunxi-with-spl.fit.itb': 787569, 'sunxi-spl.bin': 32768 }));
    expect(plan.map((write) => [write.file, write.offset])).toEqual([
      ['sunxi-spl.bin', 8192],
      ['u-boot-sunxi-with-spl.fit.itb', 40960],
    ]);
  });

  it('refuses sunxi @ 8 KiB on a standard GPT, naming both regions and their byte ranges', async () => {
    const layout = await gptLayout(64 * MiB, [[2 * MiB, 16 * MiB]]);
    const error = refusal(() => planLoaderWrites(findBoard('cubietruck'), layout, sizes({ 'u-boot-sunxi-with-spl.bin': 612352 })));
    expect(error.info.cause).toBe('overlap');
    expect(error.message).toBe('Cubietruck (Cubieboard 3): u-boot-sunxi-with-spl.bin (bytes 8192..620543) overlaps the GPT entry array (bytes 1024..17407)');
    expect(error.info.details).toMatchObject({ writeStart: 8192, writeEnd: 620544, regionStart: 1024, regionEnd: 17408 });
  });

  it('accepts sunxi @ 8 KiB on a GPT whose entry array was moved past the loader slot', async () => {
    const board = findBoard('cubietruck');
    const entries = gptEntryArrayStart(board);
    expect(entries).toBe(1 * MiB);
    const layout = await gptLayout(64 * MiB, [[minFirstPartitionStart(board, 'gpt'), 16 * MiB]], entries / 512);
    expect(planLoaderWrites(board, layout, sizes({ 'u-boot-sunxi-with-spl.bin': 612352 }))).toHaveLength(1);
  });

  it('refuses Rockchip with a partition at 4 MiB: u-boot.itb at 8 MiB lands inside it', async () => {
    const layout = await mbrLayout(64 * MiB, [[4 * MiB, 32 * MiB]]);
    const error = refusal(() => planLoaderWrites(findBoard('rock64'), layout, sizes({ 'idbloader.img': 106496, 'u-boot.itb': 831824 })));
    expect(error.info.cause).toBe('overlap');
    expect(error.message).toBe('ROCK64: u-boot.itb (bytes 8388608..9220431) overlaps the partition 1 (bytes 4194304..37748735)');
  });

  it('refuses Amlogic on GPT: the FIP from byte 512 covers the GPT header', async () => {
    const layout = await gptLayout(64 * MiB, [[4 * MiB, 16 * MiB]]);
    const error = refusal(() => planLoaderWrites(findBoard('libretech-cc'), layout, sizes({ 'u-boot.bin.sd.bin': 1_000_000 })));
    expect(error.info.cause).toBe('overlap');
    expect(error.message).toBe('Le Potato (AML-S905X-CC): u-boot.bin.sd.bin (bytes 512..999999) overlaps the GPT header (bytes 512..1023)');
  });

  it('writes only bytes 0..439 of an Amlogic image into sector 0, never the disk signature or table', async () => {
    const layout = await mbrLayout(64 * MiB, [[4 * MiB, 16 * MiB]]);
    const plan = planLoaderWrites(findBoard('libretech-cc'), layout, sizes({ 'u-boot.bin.sd.bin': 1_000_000 }));
    expect(plan).toEqual([
      { file: 'u-boot.bin.sd.bin', offset: 0, sourceOffset: 0, length: 440, slotEnd: 440 },
      { file: 'u-boot.bin.sd.bin', offset: 512, sourceOffset: 512, length: 999_488, slotEnd: 4 * MiB },
    ]);
  });

  it('refuses a write into MBR bytes 440..511 for a board that may write boot code', async () => {
    const layout = await mbrLayout(64 * MiB, [[4 * MiB, 16 * MiB]]);
    const amlogic = findBoard('libretech-cc');
    const greedy: Board = { ...amlogic, writes: [{ file: 'bl1', offsetBytes: 0, maxBytes: 444, sourceOffsetBytes: 0, lengthBytes: 444 }] };
    const error = refusal(() => planLoaderWrites(greedy, layout, sizes({ bl1: 4096 })));
    expect(error.message).toBe('Le Potato (AML-S905X-CC): bl1 (bytes 0..443) overlaps the MBR disk signature and partition table (bytes 440..511)');
  });

  it('keeps sector 0 whole for boards that declare no writable boot code', async () => {
    const layout = await mbrLayout(64 * MiB, [[4 * MiB, 16 * MiB]]);
    const rock64 = findBoard('rock64');
    const low: Board = { ...rock64, writes: [{ file: 'x', offsetBytes: 100, maxBytes: 200, sourceOffsetBytes: 0 }] };
    const error = refusal(() => planLoaderWrites(low, layout, sizes({ x: 10 })));
    expect(error.message).toBe('ROCK64: x (bytes 100..109) overlaps the MBR boot code (bytes 0..439)');
  });

  it('refuses the BeagleBone u-boot.img that runs past 1 MiB into a partition at 1 MiB', async () => {
    const layout = await mbrLayout(64 * MiB, [[1 * MiB, 16 * MiB]]);
    const error = refusal(() => planLoaderWrites(findBoard('beaglebone-black'), layout, sizes({ MLO: 110248, 'u-boot.img': 1431696 })));
    expect(error.info.cause).toBe('overlap');
    expect(error.message).toBe('BeagleBone Black: u-boot.img (bytes 393216..1824911) overlaps the partition 1 (bytes 1048576..17825791)');
  });

  it('refuses a loader larger than its slot, giving both sizes', async () => {
    const layout = await mbrLayout(64 * MiB, [[4 * MiB, 16 * MiB]]);
    const error = refusal(() => planLoaderWrites(findBoard('wandboard'), layout, sizes({ SPL: 80_000, 'u-boot.img': 610176 })));
    expect(error.info.cause).toBe('bad-input');
    expect(error.message).toBe('SPL is 80000 bytes but its slot at byte 1024 holds at most 69632 bytes');
    expect(error.info.details).toMatchObject({ fileBytes: 80000, slotBytes: 69632 });
  });

  it('refuses a first partition that starts before the board minimum, stating the minimum', async () => {
    const layout = await mbrLayout(64 * MiB, [[10 * MiB, 16 * MiB]]);
    const error = refusal(() => planLoaderWrites(findBoard('rock64'), layout, sizes({ 'idbloader.img': 106496, 'u-boot.itb': 831824 })));
    expect(error.info.cause).toBe('overlap');
    expect(error.message).toBe('Partition 1 starts at byte 10485760, but ROCK64 needs the first partition to start at byte 16777216 (16 MiB) or later');
    expect(error.info.details).toMatchObject({ minimum: 16 * MiB });
  });

  it('refuses a loader that runs past the end of the card', async () => {
    const layout = await mbrLayout(4 * MiB, []);
    const error = refusal(() => planLoaderWrites(findBoard('rock64'), layout, sizes({ 'idbloader.img': 106496, 'u-boot.itb': 831824 })));
    expect(error.info.cause).toBe('too-small');
  });

  it('names a missing loader file', async () => {
    const layout = await mbrLayout(64 * MiB, []);
    const error = refusal(() => planLoaderWrites(findBoard('rock64'), layout, sizes({ 'idbloader.img': 106496 })));
    expect(error.message).toContain('needs u-boot.itb');
  });

  it('uses an alternative layout when asked (sunxi @ 128 KiB fits a standard GPT)', async () => {
    const board = findBoard('orangepi-zero');
    const writes = chooseWrites(board, '128 KiB (H3 and newer)');
    const layout = await gptLayout(64 * MiB, [[2 * MiB, 16 * MiB]]);
    expect(planLoaderWrites(board, layout, sizes({ 'u-boot-sunxi-with-spl.bin': 500_000 }), writes)[0]?.offset).toBe(128 * KiB);
    expect(() => chooseWrites(board, 'nope')).toThrow(/no loader layout "nope"/);
  });
});

describe('table writer helpers', () => {
  it('relocates the GPT entry array past the loader slots of low-loader boards only', () => {
    expect(gptEntryArrayStart(findBoard('cubietruck'))).toBe(1 * MiB);
    expect(gptEntryArrayStart(findBoard('pine64-plus'))).toBe(1 * MiB);
    expect(gptEntryArrayStart(findBoard('wandboard'))).toBe(0xc0000);
    expect(gptEntryArrayStart(findBoard('rock64'))).toBe(1024);
    expect(gptEntryArrayStart(findBoard('beaglebone-black'))).toBe(1024);
    expect(gptEntryArrayStart(findBoard('rpi-4-b'))).toBe(1024);
  });

  it('says GPT is impossible where the loader covers the GPT header', () => {
    expect(() => gptEntryArrayStart(findBoard('odroid-n2'))).toThrow(/cannot use GPT.*bytes 512..1023/);
    expect(() => gptEntryArrayStart(findBoard('odroid-xu4'))).toThrow(/cannot use GPT/);
  });

  it('computes the lowest first-partition start per table', () => {
    expect(minFirstPartitionStart(findBoard('cubietruck'), 'mbr')).toBe(1 * MiB);
    expect(minFirstPartitionStart(findBoard('cubietruck'), 'gpt')).toBe(1 * MiB + 16 * KiB);
    expect(minFirstPartitionStart(findBoard('wandboard'), 'gpt')).toBe(1 * MiB);
    expect(minFirstPartitionStart(findBoard('rock64'), 'gpt')).toBe(16 * MiB);
    expect(minFirstPartitionStart(findBoard('rpi-3-b'), 'mbr')).toBe(512);
  });
});
