import { describe, expect, it } from 'vitest';
import { RangeSet } from '../../../electron/engine/fs/sink';

/** The written ranges of a byte map, merged: what RangeSet must report. */
function rangesOf(written: readonly boolean[]): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  written.forEach((on, i) => {
    if (!on) return;
    const last = out[out.length - 1];
    if (last && last.end === i) last.end = i + 1;
    else out.push({ start: i, end: i + 1 });
  });
  return out;
}

describe('RangeSet', () => {
  it('merges appended, touching and overlapping writes', () => {
    const set = new RangeSet();
    set.add(0, 10);
    set.add(10, 20);
    set.add(30, 40);
    set.add(25, 26);
    set.add(5, 8);
    set.add(19, 31);
    set.add(50, 50);
    expect(set.toArray()).toEqual([{ start: 0, end: 40 }]);
  });

  it('agrees with a byte map for writes in any order', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 50; round++) {
      const set = new RangeSet();
      const written = new Array<boolean>(400).fill(false);
      for (let w = 0; w < 40; w++) {
        const start = random(390);
        const end = start + random(12);
        set.add(start, end);
        for (let i = start; i < end; i++) written[i] = true;
        expect(set.toArray()).toEqual(rangesOf(written));
      }
    }
  });
});
