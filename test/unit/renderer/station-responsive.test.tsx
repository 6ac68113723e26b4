/**
 * Issue 17, item 4: the window stays responsive with 16 cards reporting. Sixteen cards arrive at
 * the Station at once and each reports write progress ten times a second for three seconds (480
 * progress events, staggered as real jobs are); the store and React see a bounded number of
 * updates because card events are folded in batches (store/batch.ts), not one update per event.
 * The same holds for one `flashMany` job writing 16 cards from the Card step.
 */
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { Profiler } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Drive } from '../../../electron/engine/drives/model';
import { App } from '../../../renderer/src/app';
import { createClient } from '../../../renderer/src/client/cardsmith-client';
import { createAppStore } from '../../../renderer/src/store/app-store';
import { StoreProvider } from '../../../renderer/src/store/store-context';
import { board, drive, fakeApi } from './samples';

const CARDS = 16;
const EVENTS_PER_CARD = 30; // 10 a second for 3 s
const TOTAL = 30e6;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

/** The whole app on `api`, with a count of React commits. */
function mountCounting(api: Parameters<typeof createClient>[0]): { store: ReturnType<typeof createAppStore>; commits: () => number } {
  const store = createAppStore({ client: createClient(api), storage: null, systemLanguages: ['en'] });
  let commits = 0;
  render(
    <StoreProvider store={store}>
      <Profiler id="app" onRender={() => (commits += 1)}>
        <App />
      </Profiler>
    </StoreProvider>,
  );
  return { store, commits: () => commits };
}

describe('Station with 16 cards reporting', { timeout: 60_000 }, () => {
  it('folds 480 progress events into a bounded number of store updates and renders', async () => {
    let drives: Drive[] = [];
    let progressEvents = 0;
    const api = fakeApi({
      fetch: async () => ({ path: '/cache/d.img', sha256: 'ab'.repeat(32), sizeBytes: TOTAL }),
      listDrives: async () => ({ drives }),
      flash: (request, emit) =>
        new Promise((resolve) => {
          const { device } = request as { device: string };
          const index = Number(/(\d+)$/.exec(device)?.[1] ?? 0);
          emit({ type: 'phase', phase: 'write', state: 'start' });
          // Jobs do not report in step: each starts its 100 ms rhythm at its own offset.
          setTimeout(() => {
            let n = 0;
            const timer = setInterval(() => {
              n += 1;
              progressEvents += 1;
              emit({ type: 'progress', phase: 'write', bytesDone: (n * TOTAL) / EVENTS_PER_CARD, bytesTotal: TOTAL, bytesPerSecond: 10e6 + index, etaSeconds: 1 });
              if (n === EVENTS_PER_CARD) {
                clearInterval(timer);
                resolve({ device, bytesWritten: TOTAL, verified: true });
              }
            }, 100);
          }, index * 6);
        }),
    });
    const { store, commits } = mountCounting(api);
    store.getState().actions.chooseImage({ kind: 'url', url: 'https://example.org/d.img' });
    act(() => store.getState().actions.openScreen('station'));
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Start the station' }));
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(store.getState().station.status).toBe('watching');

    let updates = 0;
    const unsubscribe = store.subscribe(() => (updates += 1));
    const commitsBefore = commits();
    drives = Array.from({ length: CARDS }, (_, i) => drive({ device: `/dev/sd${i}`, description: `Card ${i}`, sizeBytes: 32e9 }));
    for (let ms = 0; ms < 4500; ms += 50) {
      await act(async () => {
        await vi.advanceTimersByTimeAsync(50);
      });
    }
    unsubscribe();

    expect(progressEvents).toBe(CARDS * EVENTS_PER_CARD);
    const { station } = store.getState();
    expect(station.cards.filter((c) => c.slot.state === 'done')).toHaveLength(CARDS);
    expect(station.rows).toHaveLength(CARDS);
    expect(screen.getByText(/16 cards done ✓/)).toBeTruthy();
    // Unbatched, every progress event is a store update (480+). Batched per 100 ms over ~3 s: about
    // 30 batches, plus a start and an end (two updates) per card and the scans.
    expect(updates).toBeLessThan(120);
    expect(commits() - commitsBefore).toBeLessThan(120);
  });

  it('folds a 16-card flashMany job\'s card-tagged progress the same way', async () => {
    const cards = Array.from({ length: CARDS }, (_, i) => drive({ device: `/dev/sd${i}`, description: `Card ${i}`, sizeBytes: 32e9 }));
    let progressEvents = 0;
    const api = fakeApi({
      flashMany: (_request, emit) =>
        new Promise((resolve) => {
          let finished = 0;
          cards.forEach((card, index) => {
            emit({ type: 'phase', phase: 'write', state: 'start', card: card.device });
            setTimeout(() => {
              let n = 0;
              const timer = setInterval(() => {
                n += 1;
                progressEvents += 1;
                emit({ type: 'progress', phase: 'write', bytesDone: (n * TOTAL) / EVENTS_PER_CARD, bytesTotal: TOTAL, bytesPerSecond: 10e6, etaSeconds: 1, card: card.device });
                if (n < EVENTS_PER_CARD) return;
                clearInterval(timer);
                finished += 1;
                if (finished === CARDS) resolve({ cards: cards.map((c) => ({ device: c.device, ok: true, bytesWritten: TOTAL, verified: true, error: null })) });
              }, 100);
            }, index * 6);
          });
        }),
    });
    const { store, commits } = mountCounting(api);
    act(() => store.setState((s) => ({ flow: { ...s.flow, board: { kind: 'board', board: board() }, image: { kind: 'file', path: '/img/a.img' }, imageChecked: true, drive: cards[0] ?? null, cards } })));
    let updates = 0;
    const unsubscribe = store.subscribe(() => (updates += 1));
    const commitsBefore = commits();
    await act(async () => {
      void store.getState().actions.startFlash();
      await vi.advanceTimersByTimeAsync(0);
    });
    for (let ms = 0; ms < 3500; ms += 50) {
      await act(async () => {
        await vi.advanceTimersByTimeAsync(50);
      });
    }
    unsubscribe();
    expect(progressEvents).toBe(CARDS * EVENTS_PER_CARD);
    expect(store.getState().many?.every((c) => c.slot.state === 'done')).toBe(true);
    expect(screen.getByText('Written: 16 of 16 cards.')).toBeTruthy();
    expect(updates).toBeLessThan(60);
    expect(commits() - commitsBefore).toBeLessThan(60);
  });
});
