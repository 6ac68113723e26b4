/**
 * A running or finished engine job as the UI shows it: one row per phase (pending, running with
 * bytes/speed/ETA, done, skipped), the session log a person can attach to a bug report, and the
 * terminal outcome. Rows for the expected phases exist from the start so progress never shifts
 * the layout; a phase the engine reports unexpectedly (decompress) is added where it belongs.
 */
import type { JobEvent, Phase } from '../../../electron/engine/api';
import type { ErrorInfo } from '../../../electron/engine/errors';
import type { KeyedText } from '../../../electron/engine/messages';

export const PHASE_ORDER: readonly Phase[] = ['fetch', 'build', 'decompress', 'unmount', 'write', 'bootloader', 'verify', 'eject'];

/** `failed` and `cancelled` mark the phase that was running when the job ended that way. */
export type PhaseStatus = 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'cancelled';

export interface PhaseRow {
  readonly phase: Phase;
  readonly status: PhaseStatus;
  readonly bytesDone: number;
  readonly bytesTotal: number | null;
  readonly bytesPerSecond: number;
  readonly etaSeconds: number | null;
  readonly detail?: string;
  /** The detail as a message key, for the UI language (`detail` is its English). */
  readonly detailKeyed?: KeyedText;
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
  /** The engine job currently running for this flow (its id, for cancel). */
  readonly currentJobId: string | null;
  readonly status: JobStatus;
  readonly cancelling: boolean;
  readonly phases: readonly PhaseRow[];
  readonly log: readonly LogLine[];
  readonly error: ErrorInfo | null;
  readonly startedAt: number;
  /** When the job ended; null while it runs. */
  readonly endedAt: number | null;
}

const MAX_LOG_LINES = 5000;

function pendingRow(phase: Phase): PhaseRow {
  return { phase, status: 'pending', bytesDone: 0, bytesTotal: null, bytesPerSecond: 0, etaSeconds: null };
}

export function startJob(kind: JobKind, expected: readonly Phase[], now: number): JobState {
  const phases = PHASE_ORDER.filter((p) => expected.includes(p)).map(pendingRow);
  return { kind, currentJobId: null, status: 'running', cancelling: false, phases, log: [{ at: now, level: 'info', message: `${kind} started` }], error: null, startedAt: now, endedAt: null };
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
        ...(event.detailKey ? { detailKeyed: { key: event.detailKey, params: event.detailParams ?? {} } } : {}),
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

/**
 * Ends the job. On success a row still running (a download whose end the engine folded into the
 * next phase) is done; on failure or cancel the running row keeps the blame, so the person sees
 * which step stopped, and the rows after it stay waiting.
 */
export function finishJob(job: JobState, outcome: { ok: true } | { ok: false; error: ErrorInfo }, now: number): JobState {
  if (outcome.ok) {
    const phases = job.phases.map((row) => (row.status === 'running' ? { ...row, status: 'done' as const, ...(row.bytesTotal !== null ? { bytesDone: row.bytesTotal } : {}), etaSeconds: 0 } : row));
    return { ...job, status: 'succeeded', cancelling: false, currentJobId: null, endedAt: now, phases, log: appendLog(job.log, { at: now, level: 'info', message: `${job.kind} succeeded` }) };
  }
  const status: 'cancelled' | 'failed' = outcome.error.cause === 'cancelled' ? 'cancelled' : 'failed';
  const phases = job.phases.map((row): PhaseRow => (row.status === 'running' ? { ...row, status, etaSeconds: null } : row));
  return { ...job, status, cancelling: false, currentJobId: null, endedAt: now, phases, error: outcome.error, log: appendLog(job.log, { at: now, level: 'error', message: `${job.kind} ${status}: ${outcome.error.message}` }) };
}

/** The phase that was running when the job failed or was cancelled, if any. */
export function stoppedPhase(job: JobState): PhaseRow | null {
  return job.phases.find((row) => row.status === 'failed' || row.status === 'cancelled') ?? null;
}

/**
 * One number for the whole job, 0..1: the rows weighted by bytes where known (write and verify
 * dominate), otherwise each counting as a small fixed share. Null until anything is measurable.
 */
export function overallFraction(job: JobState): number | null {
  const SMALL = 0.02;
  const weights = job.phases.map((row) => (row.bytesTotal !== null && row.bytesTotal > 0 ? row.bytesTotal : null));
  const known = weights.filter((w): w is number => w !== null);
  const unit = known.length > 0 ? known.reduce((a, b) => a + b, 0) : job.phases.length;
  let total = 0;
  let done = 0;
  job.phases.forEach((row, index) => {
    const weight = weights[index] ?? (known.length > 0 ? unit * SMALL : 1);
    total += weight;
    done += weight * (rowFraction(row) ?? 0);
  });
  return total > 0 ? Math.min(1, done / total) : null;
}

/** Fraction 0..1 of a row, or null (an indeterminate bar) while it runs with an unknown total. */
export function rowFraction(row: PhaseRow): number | null {
  if (row.status === 'done' || row.status === 'skipped') return 1;
  if (row.status === 'pending') return 0;
  if (row.status === 'failed' || row.status === 'cancelled') return row.bytesTotal ? Math.min(1, row.bytesDone / row.bytesTotal) : 0;
  if (row.bytesTotal === null || row.bytesTotal <= 0) return null;
  return Math.min(1, row.bytesDone / row.bytesTotal);
}

/** The session log as plain text, for "copy log" and bug reports. */
export function logText(job: JobState): string {
  return job.log.map((line) => `${new Date(line.at).toISOString()} ${line.level.padEnd(5)} ${line.message}`).join('\n');
}
