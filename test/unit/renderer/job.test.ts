// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { applyJobEvent, finishJob, logText, rowFraction, startJob } from '../../../renderer/src/store/job';

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

  it('a cancelled error ends the job as cancelled, and running rows go back to pending', () => {
    let job = startJob('flash', ['write'], 0);
    job = applyJobEvent(job, { type: 'phase', phase: 'write', state: 'start' }, 1);
    job = finishJob(job, { ok: false, error: { cause: 'cancelled', message: 'Cancelled by the user' } }, 2);
    expect(job.status).toBe('cancelled');
    expect(job.phases[0]?.status).toBe('pending');
    expect(rowFraction({ phase: 'write', status: 'running', bytesDone: 1, bytesTotal: null, bytesPerSecond: 0, etaSeconds: null })).toBeNull();
  });
});
