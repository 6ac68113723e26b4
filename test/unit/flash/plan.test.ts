import { describe, expect, it } from 'vitest';
import { CardsmithError } from '../../../electron/engine/errors';
import { alignedBuffers } from '../../../electron/engine/flash/aligned';
import { differingRanges, digestPiece, mismatchedBlocks, VERIFY_BLOCK } from '../../../electron/engine/flash/digests';
import { HEAD_BYTES, mergeRanges, planWrite, subtractRanges } from '../../../electron/engine/flash/plan';

const MiB = 1 << 20;

describe('write plan', () => {
  it('zeroes the first and last MiB first and writes a full image as one data segment', () => {
    const plan = planWrite({ deviceBytes: 64 * MiB, imageBytes: 20 * MiB, mapped: null });
    expect(plan.preZero).toEqual([
      { start: 0, end: MiB },
      { start: 63 * MiB, end: 64 * MiB },
    ]);
    expect(plan.segments).toEqual([{ kind: 'data', start: 0, end: 20 * MiB }]);
    expect(plan.headBytes).toBe(HEAD_BYTES);
    expect(plan.dataBytes).toBe(20 * MiB);
  });

  it('refuses a card smaller than the image before anything is written', () => {
    let error: unknown;
    try {
      planWrite({ deviceBytes: 8 * MiB, imageBytes: 9 * MiB, mapped: null });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CardsmithError);
    expect((error as CardsmithError).info).toMatchObject({ cause: 'too-small', details: { imageBytes: 9 * MiB, deviceBytes: 8 * MiB } });
  });

  it('turns a bmap into data and hole segments in image order', () => {
    const plan = planWrite({
      deviceBytes: 64 * MiB,
      imageBytes: 10 * MiB + 100,
      mapped: [
        { start: 0, end: 4096 },
        { start: 4096, end: 8192 },
        { start: 2 * MiB, end: 3 * MiB },
      ],
    });
    expect(plan.segments).toEqual([
      { kind: 'data', start: 0, end: 8192 },
      { kind: 'hole', start: 8192, end: 2 * MiB },
      { kind: 'data', start: 2 * MiB, end: 3 * MiB },
      { kind: 'hole', start: 3 * MiB, end: 10 * MiB + 100 },
    ]);
    expect(plan.dataBytes).toBe(8192 + MiB);
  });

  it('rejects block-map ranges out of order or past the image', () => {
    expect(() => planWrite({ deviceBytes: 64 * MiB, imageBytes: MiB, mapped: [{ start: 0, end: 2 * MiB }] })).toThrow(/outside/);
    expect(() => planWrite({ deviceBytes: 64 * MiB, imageBytes: 4 * MiB, mapped: [{ start: MiB, end: 2 * MiB }, { start: 0, end: 4096 }] })).toThrow(/out of order/);
  });

  it('plans a stream of unknown size as data to its end', () => {
    const plan = planWrite({ deviceBytes: 2 * MiB, imageBytes: null, mapped: null });
    expect(plan.segments).toEqual([{ kind: 'data', start: 0, end: null }]);
    expect(plan.preZero).toEqual([{ start: 0, end: MiB }, { start: MiB, end: 2 * MiB }]);
  });

  it('cuts ranges out of ranges', () => {
    expect(subtractRanges([{ start: 0, end: 100 }, { start: 200, end: 300 }], [{ start: 50, end: 250 }])).toEqual([
      { start: 0, end: 50 },
      { start: 250, end: 300 },
    ]);
    expect(subtractRanges([{ start: 10, end: 20 }], [{ start: 0, end: 30 }])).toEqual([]);
    expect(subtractRanges([{ start: 0, end: 30 }], [{ start: 10, end: 20 }])).toEqual([{ start: 0, end: 10 }, { start: 20, end: 30 }]);
  });

  it('merges touching ranges', () => {
    expect(mergeRanges([{ start: 10, end: 20 }, { start: 0, end: 10 }, { start: 30, end: 40 }])).toEqual([
      { start: 0, end: 20 },
      { start: 30, end: 40 },
    ]);
  });
});

describe('verify digests', () => {
  it('names the 64 KiB block holding a flipped byte', () => {
    const data = Buffer.alloc(4 * VERIFY_BLOCK + 100, 7);
    const piece = digestPiece(data, 10 * MiB);
    const card = Buffer.from(data);
    card[2 * VERIFY_BLOCK + 5] = 8;
    card[4 * VERIFY_BLOCK + 99] = 0;
    expect(mismatchedBlocks(piece, card)).toEqual([
      { start: 10 * MiB + 2 * VERIFY_BLOCK, end: 10 * MiB + 3 * VERIFY_BLOCK },
      { start: 10 * MiB + 4 * VERIFY_BLOCK, end: 10 * MiB + 4 * VERIFY_BLOCK + 100 },
    ]);
    expect(mismatchedBlocks(piece, data)).toEqual([]);
  });

  it('finds exact differing byte runs', () => {
    const a = Buffer.from('abcdefghij');
    const b = Buffer.from('abXYefghiZ');
    expect(differingRanges(a, b, 1000)).toEqual([
      { start: 1002, end: 1004 },
      { start: 1009, end: 1010 },
    ]);
  });
});

describe('aligned buffers', () => {
  it('are page-aligned slices of one memory', () => {
    const buffers = alignedBuffers(3, 4 * MiB);
    expect(buffers.map((b) => b.byteOffset % 4096)).toEqual([0, 0, 0]);
    expect(buffers.map((b) => b.length)).toEqual([4 * MiB, 4 * MiB, 4 * MiB]);
    expect(() => alignedBuffers(1, 1000)).toThrow(RangeError);
  });
});
