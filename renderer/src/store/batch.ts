/**
 * Coalesces a stream of engine events into one store update per window: with 16 cards each
 * reporting progress ten times a second, the store (and React) see a few updates a second
 * instead of 160. A window opens with the first event and closes once; `flushNow` closes it early
 * (a job's end must not wait behind a timer).
 */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const BATCH_MS = 100;

const REAL_TIMERS: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface Batcher<T> {
  push(item: T): void;
  flushNow(): void;
}

export function createBatcher<T>(flush: (items: readonly T[]) => void, windowMs: number = BATCH_MS, timers: Timers = REAL_TIMERS): Batcher<T> {
  let queued: T[] = [];
  let timer: unknown = null;
  const flushNow = (): void => {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
    if (queued.length === 0) return;
    const items = queued;
    queued = [];
    flush(items);
  };
  return {
    push(item) {
      queued.push(item);
      timer ??= timers.setTimeout(flushNow, windowMs);
    },
    flushNow,
  };
}
