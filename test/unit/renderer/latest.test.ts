// @vitest-environment node
/**
 * "Latest answer wins": when the store asks the engine again before the first answer came back,
 * an answer that arrives late (out of order) must not overwrite the newer one.
 */
import { describe, expect, it } from 'vitest';
import type { JobEvent, RequestInput } from '../../../electron/engine/api';
import { createClient } from '../../../renderer/src/client/cardsmith-client';
import { createAppStore } from '../../../renderer/src/store/app-store';
import { createLatest } from '../../../renderer/src/store/latest';
import { board, drive, fakeApi } from './samples';

/** Answers held until the test releases them, in whatever order it chooses. */
function held<T>() {
  const waiting: { request: RequestInput; release: (value: T) => void }[] = [];
  const handler = (request: RequestInput, _emit: (event: JobEvent) => void): Promise<T> =>
    new Promise<T>((release) => waiting.push({ request, release }));
  return { waiting, handler };
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));

describe('latest answer wins', () => {
  it('keeps a guard per key: a later begin supersedes, other keys are untouched, drop supersedes', () => {
    const latest = createLatest<'a' | 'b'>();
    const first = latest.begin('a');
    const other = latest.begin('b');
    const second = latest.begin('a');
    expect([first(), second(), other()]).toEqual([false, true, true]);
    latest.drop('a');
    expect([second(), other()]).toEqual([false, true]);
  });

  it('drops an older catalog answered after the newer one', async () => {
    const catalogs = held<{ entries: []; problems: string[] }>();
    const api = fakeApi({ catalog: catalogs.handler });
    const store = createAppStore({ client: createClient(api), storage: null, systemLanguages: ['en'] });
    store.getState().actions.chooseBoard({ kind: 'board', board: board() });
    store.getState().actions.chooseBoard({ kind: 'board', board: board({ id: 'rock64', name: 'ROCK64' }) });
    expect(catalogs.waiting.map((w) => w.request)).toMatchObject([{ board: 'orangepi-pc' }, { board: 'rock64' }]);
    catalogs.waiting[1]!.release({ entries: [], problems: ['rock64 catalog'] });
    await settle();
    catalogs.waiting[0]!.release({ entries: [], problems: ['orangepi-pc catalog'] });
    await settle();
    expect(store.getState().catalog).toEqual({ status: 'ready', value: { entries: [], problems: ['rock64 catalog'] } });
  });

  it('drops an older drive list answered after the newer one', async () => {
    const lists = held<{ drives: ReturnType<typeof drive>[] }>();
    const api = fakeApi({ listDrives: lists.handler });
    const store = createAppStore({ client: createClient(api), storage: null, systemLanguages: ['en'] });
    const older = store.getState().actions.refreshDrives();
    store.getState().actions.setShowAllDrives(true);
    await settle();
    expect(lists.waiting.map((w) => w.request)).toMatchObject([{ all: false }, { all: true }]);
    lists.waiting[1]!.release({ drives: [drive(), drive({ device: '/dev/sda', system: true })] });
    await settle();
    lists.waiting[0]!.release({ drives: [drive()] });
    await older;
    const drives = store.getState().drives;
    expect(drives.status === 'ready' ? drives.value.map((d) => d.device) : drives).toEqual(['/dev/sdb', '/dev/sda']);
  });
});
