// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { applyJobEvent, finishJob, logText, overallFraction, rowFraction, startJob, stoppedPhase } from '../../../renderer/src/store/job';

describe('job slice', () => {
  it('has a row for every expected phase from the start, in pipeline order', () => {
    const job = startJob('flash', ['verify', 'write', 'unmount'], 0);
    expect(job.phases.map((r) => [r.phase, r.status])).toEqual([
      ['unmount', 'pending'],
      ['write', 'pending'],
      ['verify', 'pending'],
    ]);
  });

  it('folds phase and progress events, inserting an unexpected phase where it belongs', () => {
    let job = startJob('flash', ['unmount', 'write', 'verify'], 0);
    job = applyJobEvent(job, { type: 'phase', phase: 'unmount', state: 'done' }, 1);
    job = applyJobEvent(job, { type: 'progress', phase: 'decompress', bytesDone: 10, bytesTotal: 100, bytesPerSecond: 5, etaSeconds: 18 }, 2);
    job = applyJobEvent(job, { type: 'progress', phase: 'write', bytesDone: 50, bytesTotal: 200, bytesPerSecond: 25, etaSeconds: 6 }, 3);
    expect(job.phases.map((r) => r.phase)).toEqual(['decompress', 'unmount', 'write', 'verify']);
    const write = job.phases.find((r) => r.phase === 'write');
    expect(write).toMatchObject({ status: 'running', bytesDone: 50, bytesTotal: 200, bytesPerSecond: 25, etaSeconds: 6 });
    expect(write && rowFraction(write)).toBe(0.25);
    job = applyJobEvent(job, { type: 'phase', phase: 'write', state: 'done' }, 4);
    expect(job.phases.find((r) => r.phase === 'write')).toMatchObject({ status: 'done', bytesDone: 200 });
    job = applyJobEvent(job, { type: 'phase', phase: 'verify', state: 'skipped', detail: 'verify off' }, 5);
    expect(job.phases.find((r) => r.phase === 'verify')).toMatchObject({ status: 'skipped', detail: 'verify off' });
  });

  it('keeps a session log of phases, log lines and the outcome', () => {
    let job = startJob('flash', ['write'], Date.UTC(2026, 0, 1));
    job = applyJobEvent(job, { type: 'log', level: 'warn', message: 'card is slow' }, Date.UTC(2026, 0, 1, 0, 0, 1));
    job = finishJob(job, { ok: false, error: { cause: 'io', message: 'EIO at byte 4096' } }, Date.UTC(2026, 0, 1, 0, 0, 2));
    expect(job.status).toBe('failed');
    expect(logText(job).split('\n')).toEqual([
      '2026-01-01T00:00:00.000Z info  flash started',
      '2026-01-01T00:00:01.000Z warn  card is slow',
      '2026-01-01T00:00:02.000Z error flash failed: EIO at byte 4096',
    ]);
  });

  it('a cancelled error ends the job as cancelled and marks the phase that was running', () => {
    let job = startJob('flash', ['write', 'verify'], 0);
    job = applyJobEvent(job, { type: 'phase', phase: 'write', state: 'start' }, 1);
    job = finishJob(job, { ok: false, error: { cause: 'cancelled', message: 'Cancelled by the user' } }, 2);
    expect(job.status).toBe('cancelled');
    expect(job.phases.map((r) => r.status)).toEqual(['cancelled', 'pending']);
    expect(stoppedPhase(job)?.phase).toBe('write');
    expect(job.endedAt).toBe(2);
    expect(rowFraction({ phase: 'write', status: 'running', bytesDone: 1, bytesTotal: null, bytesPerSecond: 0, etaSeconds: null })).toBeNull();
  });

  it('a failure blames the running phase; a success ends a download the engine never closed', () => {
    let failed = startJob('flash', ['fetch', 'write'], 0);
    failed = applyJobEvent(failed, { type: 'phase', phase: 'fetch', state: 'done' }, 1);
    failed = applyJobEvent(failed, { type: 'progress', phase: 'write', bytesDone: 10, bytesTotal: 40, bytesPerSecond: 1, etaSeconds: 30 }, 2);
    failed = finishJob(failed, { ok: false, error: { cause: 'io', message: 'EIO' } }, 3);
    expect(failed.phases.map((r) => r.status)).toEqual(['done', 'failed']);
    expect(rowFraction(failed.phases[1]!)).toBe(0.25);

    let ok = startJob('flash', ['fetch', 'write'], 0);
    ok = applyJobEvent(ok, { type: 'progress', phase: 'fetch', bytesDone: 5, bytesTotal: 50, bytesPerSecond: 1, etaSeconds: 45 }, 1);
    ok = applyJobEvent(ok, { type: 'phase', phase: 'write', state: 'done' }, 2);
    ok = finishJob(ok, { ok: true }, 3);
    expect(ok.phases.map((r) => [r.phase, r.status, r.bytesDone])).toEqual([
      ['fetch', 'done', 50],
      ['write', 'done', 0],
    ]);
  });

  it('weighs the overall percentage by the bytes each phase moves', () => {
    let job = startJob('flash', ['unmount', 'write', 'verify'], 0);
    expect(overallFraction(job)).toBe(0);
    job = applyJobEvent(job, { type: 'phase', phase: 'unmount', state: 'done' }, 1);
    job = applyJobEvent(job, { type: 'progress', phase: 'write', bytesDone: 50, bytesTotal: 100, bytesPerSecond: 1, etaSeconds: 50 }, 2);
    job = applyJobEvent(job, { type: 'progress', phase: 'verify', bytesDone: 0, bytesTotal: 100, bytesPerSecond: 0, etaSeconds: null }, 3);
    // write 100 + verify 100 + unmount at 2% of 200 = 204; done: 4 (unmount) + 50 (write).
    expect(overallFraction(job)).toBeCloseTo(54 / 204, 6);
  });
});
