/**
 * What the renderer hands the engine beyond plain requests: the Settings' source settings on
 * every job that reads sources, a job log shown in the file manager from the error panel, and
 * the path of a file dropped on the Image step (from pathForFile, else the file:// URL).
 */
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestInput } from '../../../electron/engine/api';
import { App } from '../../../renderer/src/app';
import { createClient } from '../../../renderer/src/client/cardsmith-client';
import { ErrorPanel } from '../../../renderer/src/components/error-panel';
import { createAppStore, type AppStore } from '../../../renderer/src/store/app-store';
import { SETTINGS_KEY, sourceSettingsOf, DEFAULT_SETTINGS } from '../../../renderer/src/store/settings';
import { StoreProvider } from '../../../renderer/src/store/store-context';
import { board, fakeApi, type FakeApi } from './samples';

afterEach(cleanup);

const GiB = 1024 ** 3;
const INSPECTION = {
  inspection: { target: '/x', sizeBytes: 1 << 20, table: 'mbr' as const, partitions: [], loaders: [], consistentBoards: [] },
};

function memoryStorage(initial: Record<string, string> = {}): Pick<Storage, 'getItem' | 'setItem'> {
  const items = new Map(Object.entries(initial));
  return { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) };
}

function storeWith(api: FakeApi, saved: Record<string, unknown> = {}): AppStore {
  return createAppStore({ client: createClient(api), storage: memoryStorage({ [SETTINGS_KEY]: JSON.stringify(saved) }), systemLanguages: ['en'] });
}

const callsOf = (api: FakeApi, op: RequestInput['op']): RequestInput[] => api.calls.filter((call) => call.op === op);

describe('source settings from the Settings store', () => {
  it('go with catalog, inspect and fetch requests, not with listBoards', async () => {
    const api = fakeApi({ listBoards: async () => ({ boards: [board()] }), catalog: async () => ({ entries: [], problems: [] }), inspect: async () => INSPECTION });
    const store = storeWith(api, { cacheFolder: '/srv/cardsmith', cacheLimitGiB: 2, catalogUrls: ['http://127.0.0.1:8080/c.json', 'ftp://mirror/c.json'] });
    const { actions } = store.getState();
    await actions.loadBoards();
    actions.chooseBoard({ kind: 'board', board: board() });
    actions.chooseImage({ kind: 'file', path: '/img/a.img' });
    await waitFor(() => expect(callsOf(api, 'inspect')).toHaveLength(1));
    const expected = { cacheDir: '/srv/cardsmith', cacheLimitBytes: 2 * GiB, catalogUrls: ['http://127.0.0.1:8080/c.json'] };
    expect(callsOf(api, 'catalog')).toEqual([{ op: 'catalog', icons: true, board: 'orangepi-pc', settings: expected }]);
    expect(callsOf(api, 'inspect')).toEqual([{ op: 'inspect', target: '/img/a.img', settings: expected }]);
    expect(callsOf(api, 'listBoards')).toEqual([{ op: 'listBoards' }]);
  });

  it('reload the catalog with the new URLs when they change in Settings', async () => {
    const api = fakeApi({ catalog: async () => ({ entries: [], problems: [] }) });
    const store = storeWith(api);
    store.getState().actions.chooseBoard({ kind: 'board', board: board() });
    store.getState().actions.updateSettings({ catalogUrls: ['https://example.org/more.json'], cacheFolder: 'relative/dir' });
    await waitFor(() => expect(callsOf(api, 'catalog')).toHaveLength(2));
    expect(callsOf(api, 'catalog').map((call) => (call as { settings?: unknown }).settings)).toEqual([
      { cacheLimitBytes: 8 * GiB },
      { cacheLimitBytes: 8 * GiB, catalogUrls: ['https://example.org/more.json'] },
    ]);
  });

  it('say nothing of an empty folder or URL list, and accept Windows folders', () => {
    expect(sourceSettingsOf(DEFAULT_SETTINGS)).toEqual({ cacheLimitBytes: 8 * GiB });
    expect(sourceSettingsOf({ ...DEFAULT_SETTINGS, cacheFolder: ' D:\\Cache ', cacheLimitGiB: 0.5 })).toEqual({ cacheDir: 'D:\\Cache', cacheLimitBytes: GiB / 2 });
  });
});

describe('Open log on the error panel', () => {
  it('asks the api to show the log file and shows a refusal in place', async () => {
    const api = fakeApi({});
    const store = storeWith(api);
    const error = { cause: 'io' as const, message: 'write failed at 4096', logFile: '/home/me/.cache/cardsmith/logs/flash.log' };
    render(
      <StoreProvider store={store}>
        <ErrorPanel error={error} />
      </StoreProvider>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Open log' }));
    await waitFor(() => expect(api.shown).toEqual([error.logFile]));

    api.showItemInFolder = async () => {
      throw new Error('Only the app\'s logs and files a job reported can be shown');
    };
    fireEvent.click(screen.getByRole('button', { name: 'Open log' }));
    expect(await screen.findByRole('status')).toHaveProperty('textContent', "Only the app's logs and files a job reported can be shown");
  });
});

describe('dropping a file on the Image step', { timeout: 30_000 }, () => {
  async function toFileTab(api: FakeApi): Promise<HTMLElement> {
    const store = storeWith(api);
    render(
      <StoreProvider store={store}>
        <App />
      </StoreProvider>,
    );
    fireEvent.click(await screen.findByRole('radio', { name: /Orange Pi PC/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    fireEvent.click(screen.getByRole('tab', { name: 'Local file' }));
    const zone = document.querySelector('.drop-zone');
    if (!(zone instanceof HTMLElement)) throw new Error('no drop zone');
    return zone;
  }

  const dataTransfer = (files: File[], uriList: string) => ({ files, types: ['Files', 'text/uri-list'], getData: (type: string) => (type === 'text/uri-list' ? uriList : '') });

  it('takes the path pathForFile gives for the dropped File', async () => {
    const api = fakeApi({ listBoards: async () => ({ boards: [board()] }), catalog: async () => ({ entries: [], problems: [] }), inspect: async () => INSPECTION });
    api.droppedPaths.set('armbian.img.xz', '/home/me/Downloads/armbian.img.xz');
    const zone = await toFileTab(api);
    fireEvent.drop(zone, { dataTransfer: dataTransfer([new File(['x'], 'armbian.img.xz')], '') });
    expect(await screen.findByText('Chosen image: /home/me/Downloads/armbian.img.xz')).toBeTruthy();
    expect((screen.getByLabelText('Image file path') as HTMLInputElement).value).toBe('/home/me/Downloads/armbian.img.xz');
    await waitFor(() => expect(callsOf(api, 'inspect').map((call) => (call as { target: string }).target)).toEqual(['/home/me/Downloads/armbian.img.xz']));
  });

  it('falls back to the file:// URL when the File has no path, and ignores a drop with neither', async () => {
    const api = fakeApi({ listBoards: async () => ({ boards: [board()] }), catalog: async () => ({ entries: [], problems: [] }), inspect: async () => INSPECTION });
    const zone = await toFileTab(api);
    fireEvent.drop(zone, { dataTransfer: dataTransfer([new File(['x'], 'nothing.img')], 'https://example.org/a.img') });
    expect(screen.queryByText(/^Chosen image:/)).toBeNull();
    fireEvent.drop(zone, { dataTransfer: dataTransfer([new File(['x'], 'my card.img')], '# comment\r\nfile:///home/me/my%20card.img') });
    expect(await screen.findByText('Chosen image: /home/me/my card.img')).toBeTruthy();
  });
});
