import { describe, expect, it } from 'vitest';
import { createJobContext } from '../../../electron/engine/job';
import type { JobEvent } from '../../../electron/engine/api';

describe('job context progress', () => {
  it('computes speed and ETA and throttles updates', () => {
    let clock = 0;
    const events: JobEvent[] = [];
    const ctx = createJobContext((e) => events.push(e), new AbortController().signal, { throttleMs: 100, now: () => clock });
    const progress = ctx.progress('write', 1000);
    clock = 1000;
    progress.update(100); // emitted: first update
    clock = 1050;
    progress.update(150); // throttled
    clock = 2000;
    progress.update(200); // emitted
    expect(events).toHaveLength(2);
    expect(events[1]).toEqual({ type: 'progress', phase: 'write', bytesDone: 200, bytesTotal: 1000, bytesPerSecond: 100, etaSeconds: 8 });
    progress.finish();
    expect(events).toHaveLength(3);
    clock = 3000;
    progress.update(300, 'card');
    expect(events[3]).toMatchObject({ bytesDone: 300, limitedBy: 'card' });
    expect('limitedBy' in (events[1] as object)).toBe(false);
  });

  it('reports cancellation as a classified error', () => {
    const controller = new AbortController();
    const ctx = createJobContext(() => undefined, controller.signal);
    expect(() => ctx.throwIfCancelled()).not.toThrow();
    controller.abort();
    expect(() => ctx.throwIfCancelled()).toThrowError(/Cancelled/);
  });
});
