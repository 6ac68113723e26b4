import { describe, expect, it } from 'vitest';
import { isAllZero, zeroRuns } from '../../../electron/engine/flash/holes';

const KiB = 1024;

/** A buffer of `bytes` zeros with a non-zero byte at each offset in `marks`. */
function withMarks(bytes: number, marks: number[]): Buffer {
  const out = Buffer.alloc(bytes);
  for (const at of marks) out[at] = 1;
  return out;
}

describe('zero runs in a chunk', () => {
  it('finds runs of whole 64 KiB zero blocks, at least 256 KiB long', () => {
    // Data in the first block and at 1 MiB + 5: zeros [64 KiB, 1 MiB) and [1 MiB + 64 KiB, 4 MiB).
    expect(zeroRuns(withMarks(4096 * KiB, [10, 1024 * KiB + 5]))).toEqual([
      { start: 64 * KiB, end: 1024 * KiB },
      { start: 1088 * KiB, end: 4096 * KiB },
    ]);
  });

  it('writes short runs anyway, but takes a short chunk that is all zero', () => {
    expect(zeroRuns(withMarks(1024 * KiB, [0, 200 * KiB]))).toEqual([{ start: 256 * KiB, end: 1024 * KiB }]);
    expect(zeroRuns(Buffer.alloc(100 * KiB))).toEqual([{ start: 0, end: 100 * KiB }]);
    expect(zeroRuns(withMarks(512 * KiB, [300 * KiB]))).toEqual([{ start: 0, end: 256 * KiB }]);
    expect(zeroRuns(withMarks(512 * KiB, [200 * KiB, 400 * KiB]))).toEqual([]);
  });

  it('ends a run at a partial last block', () => {
    expect(zeroRuns(withMarks(700 * KiB, [0]))).toEqual([{ start: 64 * KiB, end: 700 * KiB }]);
    expect(zeroRuns(withMarks(700 * KiB, [0, 699 * KiB]))).toEqual([{ start: 64 * KiB, end: 640 * KiB }]);
  });

  it('tells all-zero bytes from others', () => {
    expect(isAllZero(Buffer.alloc(8 * KiB))).toBe(true);
    expect(isAllZero(withMarks(8 * KiB, [8 * KiB - 1]))).toBe(false);
  });
});
