import { describe, expect, it } from 'vitest';
import { cardOf, RequestSchema } from '../../../electron/engine/api';
import { verdictOf } from '../../../electron/engine/check/check';
import type { CapacityProbe } from '../../../electron/engine/check/model';
import { judgeSpeed } from '../../../electron/engine/check/speed';
import { cardMode, refusal } from '../../../electron/engine/elevated/policy';

const MiB = 1 << 20;
const capacity = (over: Partial<CapacityProbe> = {}): CapacityProbe => ({
  claimedBytes: 1024 * MiB,
  realBytes: 1024 * MiB,
  resolutionBytes: 4096,
  failures: [],
  badBlocks: [],
  badBlockCount: 0,
  blocksWritten: 1024,
  blockBytes: 4096,
  ...over,
});

describe('speed in words', () => {
  it('names the SD speed and application classes reached', () => {
    expect(judgeSpeed({ sequentialWriteMBps: 35, sequentialReadMBps: 90, randomReadIops: 4100, randomWriteIops: 2100 })).toMatchObject({
      classes: ['C10', 'U1', 'U3', 'V30', 'A1', 'A2'],
      tooSlow: false,
    });
    const a1 = judgeSpeed({ sequentialWriteMBps: 12, sequentialReadMBps: 80, randomReadIops: 1500, randomWriteIops: 500 });
    expect(a1.classes).toEqual(['C10', 'U1', 'A1']);
    expect(a1.summary).toMatch(/^fine for an OS/);
  });

  it('calls a card below A1 slow for a root filesystem, and one below class 4 or 10 write IOPS too slow', () => {
    const slowRandom = judgeSpeed({ sequentialWriteMBps: 20, sequentialReadMBps: 80, randomReadIops: 1600, randomWriteIops: 120 });
    expect(slowRandom).toMatchObject({ classes: ['C10', 'U1'], tooSlow: false });
    expect(slowRandom.summary).toMatch(/slow for a root filesystem/);
    expect(judgeSpeed({ sequentialWriteMBps: 3.9, sequentialReadMBps: 20, randomReadIops: 2000, randomWriteIops: 600 })).toMatchObject({ tooSlow: true, classes: [] });
    expect(judgeSpeed({ sequentialWriteMBps: 15, sequentialReadMBps: 20, randomReadIops: 2000, randomWriteIops: 9 }).summary).toMatch(/^too slow for an OS/);
  });
});

describe('the verdict', () => {
  const speed = { sequentialWriteMBps: 1, sequentialReadMBps: 1, randomReadIops: 1, randomWriteIops: 1, sequentialBytes: MiB, randomOps: 2, classes: [], summary: 'too slow for an OS', tooSlow: true };

  it('is fake capacity for wrap-around or lost writes, failing for bad data or I/O errors, else by speed', () => {
    expect(verdictOf(capacity({ realBytes: 96 * MiB, failures: ['wrap-around'] }), undefined)).toMatchObject({ verdict: 'fake-capacity', summary: expect.stringMatching(/holds 96\.0 MiB.*wrap around/) });
    expect(verdictOf(capacity({ realBytes: 96 * MiB, failures: ['lost-writes'] }), undefined)).toMatchObject({ verdict: 'fake-capacity', summary: expect.stringMatching(/lost/) });
    const failing = verdictOf(capacity({ realBytes: 5 * MiB, failures: ['corrupt-data', 'lost-writes'], badBlocks: [{ offset: 5 * MiB, kind: 'corrupt-data' }], badBlockCount: 3 }), undefined);
    expect(failing).toMatchObject({ verdict: 'failing', summary: expect.stringMatching(/from byte 5242880/) });
    expect(verdictOf(capacity({ failures: ['read-errors'] }), undefined).verdict).toBe('failing');
    expect(verdictOf(capacity(), speed).verdict).toBe('too-slow');
    expect(verdictOf(capacity(), { ...speed, tooSlow: false, summary: 'fine for an OS' }).verdict).toBe('good');
  });
});

describe('the check in the contract', () => {
  it('opens its device through the privileged worker in write mode', () => {
    const request = RequestSchema.parse({ op: 'check', device: '/dev/sdb' });
    expect(request).toMatchObject({ speed: true, allowLoop: false });
    expect(cardOf(request)).toBe('/dev/sdb');
    expect(cardMode(request)).toBe('write');
    expect(refusal(request, { allowLoop: false })).toBeNull();
    expect(refusal(RequestSchema.parse({ op: 'check', device: '/dev/loop1', allowLoop: true }), { allowLoop: false })).toMatchObject({ cause: 'unsafe-target' });
  });
});
