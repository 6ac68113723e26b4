/**
 * The running side of a job: what an operation receives to report progress and notice
 * cancellation. Progress is throttled here (default every 100 ms per phase) so no front end has to.
 */
import type { JobEvent, Phase, Progress } from './api';
import { CardsmithError } from './errors';
import { english, type Message } from './messages';

export interface JobContext {
  readonly signal: AbortSignal;
  emit(event: JobEvent): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
  /** A keyed detail is sent as its English text plus key and params, for the app to translate. */
  phase(phase: Phase, state: 'start' | 'done' | 'skipped', detail?: string | Message): void;
  /** Returns a reporter for one phase that computes speed and ETA and throttles events. */
  progress(phase: Phase, bytesTotal: number | null): ProgressReporter;
  throwIfCancelled(): void;
}

export interface ProgressReporter {
  update(bytesDone: number, limitedBy?: Progress['limitedBy']): void;
  setTotal(bytesTotal: number | null): void;
  finish(): void;
}

export function createJobContext(
  emit: (event: JobEvent) => void,
  signal: AbortSignal,
  options: { throttleMs?: number; now?: () => number } = {},
): JobContext {
  const throttleMs = options.throttleMs ?? 100;
  const now = options.now ?? (() => performance.now());
  const ctx: JobContext = {
    signal,
    emit,
    log: (level, message) => emit({ type: 'log', level, message }),
    phase: (phase, state, detail) =>
      emit({
        type: 'phase',
        phase,
        state,
        ...(typeof detail === 'string' && detail ? { detail } : {}),
        ...(typeof detail === 'object' ? { detail: english(detail), detailKey: detail.key, detailParams: detail.params } : {}),
      }),
    progress(phase, initialTotal) {
      let total = initialTotal;
      const started = now();
      let lastEmit = -Infinity;
      let done = 0;
      let limitedBy: Progress['limitedBy'];
      const send = (): void => {
        const elapsed = (now() - started) / 1000;
        const speed = elapsed > 0 ? done / elapsed : 0;
        const eta = total !== null && speed > 0 ? Math.max(0, (total - done) / speed) : null;
        emit({ type: 'progress', phase, bytesDone: done, bytesTotal: total, bytesPerSecond: speed, etaSeconds: eta, ...(limitedBy ? { limitedBy } : {}) });
      };
      return {
        update(bytesDone, side) {
          done = bytesDone;
          limitedBy = side;
          const t = now();
          if (t - lastEmit >= throttleMs) {
            lastEmit = t;
            send();
          }
        },
        setTotal(bytesTotal) {
          total = bytesTotal;
        },
        finish() {
          send();
        },
      };
    },
    throwIfCancelled() {
      if (signal.aborted) throw CardsmithError.keyed('cancelled', 'job.cancelled', {});
    },
  };
  return ctx;
}
