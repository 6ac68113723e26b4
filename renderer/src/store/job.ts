/**
 * A running or finished engine job as the UI shows it: one row per phase (pending, running with
 * bytes/speed/ETA, done, skipped), the session log a person can attach to a bug report, and the
 * terminal outcome. Rows for the expected phases exist from the start so progress never shifts
 * the layout; a phase the engine reports unexpectedly (decompress) is added where it belongs.
 */
import type { JobEvent, Phase } from '../../../electron/engine/api';
import type { ErrorInfo } from '../../../electron/engine/errors';

export const PHASE_ORDER: readonly Phase[] = ['fetch', 'build', 'decompress', 'unmount', 'write', 'bootloader', 'verify', 'eject'];

export type PhaseStatus = 'pending' | 'running' | 'done' | 'skipped';

export interface PhaseRow {
  readonly phase: Phase;
  readonly status: PhaseStatus;
  readonly bytesDone: number;
  readonly bytesTotal: number | null;
  readonly bytesPerSecond: number;
  readonly etaSeconds: number | null;
  readonly detail?: string;
}

export type JobKind = 'flash' | 'verify' | 'inspect';
export type JobStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface LogLine {
  readonly at: number;
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
}

export interface JobState {
  readonly kind: JobKind;
  /** The engine job currently running for this flow (a flash of a rootfs runs build, then flash). */
  readonly currentJobId: string | null;
  readonly status: JobStatus;
  readonly cancelling: boolean;
  readonly phases: readonly PhaseRow[];
  readonly log: readonly LogLine[];
  readonly error: ErrorInfo | null;
}

const MAX_LOG_LINES = 5000;

function pendingRow(phase: Phase): PhaseRow {
  return { phase, status: 'pending', bytesDone: 0, bytesTotal: null, bytesPerSecond: 0, etaSeconds: null };
}

export function startJob(kind: JobKind, expected: readonly Phase[], now: number): JobState {
  const phases = PHASE_ORDER.filter((p) => expected.includes(p)).map(pendingRow);
  return { kind, currentJobId: null, status: 'running', cancelling: false, phases, log: [{ at: now, level: 'info', message: `${kind} started` }], error: null };
}

function withRow(phases: readonly PhaseRow[], phase: Phase, update: (row: PhaseRow) => PhaseRow): readonly PhaseRow[] {
  if (phases.some((row) => row.phase === phase)) return phases.map((row) => (row.phase === phase ? update(row) : row));
  const added = [...phases, update(pendingRow(phase))];
  return added.sort((a, b) => PHASE_ORDER.indexOf(a.phase) - PHASE_ORDER.indexOf(b.phase));
}

function appendLog(log: readonly LogLine[], line: LogLine): readonly LogLine[] {
  const next = [...log, line];
  return next.length > MAX_LOG_LINES ? next.slice(next.length - MAX_LOG_LINES) : next;
}

/** Folds one engine event into the job. Terminal events are logged; the runner sets the outcome. */
export function applyJobEvent(job: JobState, event: JobEvent, now: number): JobState {
  switch (event.type) {
    case 'phase': {
      const status: PhaseStatus = event.state === 'start' ? 'running' : event.state;
      const phases = withRow(job.phases, event.phase, (row) => ({
        ...row,
        status,
        ...(event.detail ? { detail: event.detail } : {}),
        ...(status === 'done' && row.bytesTotal !== null ? { bytesDone: row.bytesTotal, etaSeconds: 0 } : {}),
      }));
      const message = `${event.phase} ${event.state}${event.detail ? `: ${event.detail}` : ''}`;
      return { ...job, phases, log: appendLog(job.log, { at: now, level: 'info', message }) };
    }
    case 'progress': {
      const phases = withRow(job.phases, event.phase, (row) => ({
        ...row,
        status: row.status === 'pending' ? 'running' : row.status,
        bytesDone: event.bytesDone,
        bytesTotal: event.bytesTotal,
        bytesPerSecond: event.bytesPerSecond,
        etaSeconds: event.etaSeconds,
      }));
      return { ...job, phases };
    }
    case 'log':
      return { ...job, log: appendLog(job.log, { at: now, level: event.level, message: event.message }) };
    case 'result':
      return { ...job, log: appendLog(job.log, { at: now, level: 'info', message: `${event.op} finished` }) };
    case 'error':
      return { ...job, log: appendLog(job.log, { at: now, level: 'error', message: `${event.error.cause}: ${event.error.message}` }) };
  }
}

export function finishJob(job: JobState, outcome: { ok: true } | { ok: false; error: ErrorInfo }, now: number): JobState {
  if (outcome.ok) {
    return { ...job, status: 'succeeded', cancelling: false, currentJobId: null, log: appendLog(job.log, { at: now, level: 'info', message: `${job.kind} succeeded` }) };
  }
  const status: JobStatus = outcome.error.cause === 'cancelled' ? 'cancelled' : 'failed';
  const phases = job.phases.map((row) => (row.status === 'running' ? { ...row, status: 'pending' as const } : row));
  return { ...job, status, cancelling: false, currentJobId: null, phases, error: outcome.error, log: appendLog(job.log, { at: now, level: 'error', message: `${job.kind} ${status}: ${outcome.error.message}` }) };
}

/** Fraction 0..1 of a row, or null (an indeterminate bar) while it runs with an unknown total. */
export function rowFraction(row: PhaseRow): number | null {
  if (row.status === 'done' || row.status === 'skipped') return 1;
  if (row.status === 'pending') return 0;
  if (row.bytesTotal === null || row.bytesTotal <= 0) return null;
  return Math.min(1, row.bytesDone / row.bytesTotal);
}

/** The session log as plain text, for "copy log" and bug reports. */
export function logText(job: JobState): string {
  return job.log.map((line) => `${new Date(line.at).toISOString()} ${line.level.padEnd(5)} ${line.message}`).join('\n');
}
