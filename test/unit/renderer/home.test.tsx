/**
 * The launch screen in one glance: Board · OS · Card tiles show the choices remembered from the
 * last launch (the card only when it is in its reader again), and with all three filled the card
 * is two clicks away from being flashed: "Review and flash", then "Flash the card".
 */
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../../renderer/src/app';
import { createClient } from '../../../renderer/src/client/cardsmith-client';
import { createAppStore } from '../../../renderer/src/store/app-store';
import { MEMORY_KEY } from '../../../renderer/src/store/memory';
import { StoreProvider } from '../../../renderer/src/store/store-context';
import { board, drive, fakeApi } from './samples';

afterEach(cleanup);

const ENTRY = { id: 'debian-12-orangepi-pc', name: 'Debian 12 minimal', description: 'Debian bookworm, console only', kind: 'image' as const, boards: ['orangepi-pc'], url: 'https://example.org/d.img.xz', cached: true };

describe('home tiles', { timeout: 30_000 }, () => {
  it('shows the remembered board, OS and card, and flashes in two clicks', async () => {
    const stored = new Map([[MEMORY_KEY, JSON.stringify({ board: 'orangepi-pc', image: { kind: 'catalog', id: ENTRY.id }, card: { device: '/dev/sdc', description: 'Kingston', sizeBytes: 16e9 }, recentBoards: ['orangepi-pc'] })]]);
    const api = fakeApi({
      listBoards: async () => ({ boards: [board()] }),
      catalog: async () => ({ entries: [{ ...ENTRY, id: 'other', name: 'Other' }, ENTRY], problems: [] }),
      inspect: async () => ({ inspection: { target: '/dev/sdc', sizeBytes: 16e9, table: 'none' as const, partitions: [], loaders: [], consistentBoards: [] } }),
      listDrives: async () => ({ drives: [drive(), drive({ device: '/dev/sdc', description: 'Kingston', sizeBytes: 16e9 })] }),
      flash: async (request) => ({ device: (request as { device: string }).device, bytesWritten: 64e6, verified: true }),
    });
    const store = createAppStore({ client: createClient(api), storage: { getItem: (k) => stored.get(k) ?? null, setItem: (k, v) => void stored.set(k, v) }, systemLanguages: ['en'] });
    void store.getState().actions.loadBoards();
    render(
      <StoreProvider store={store}>
        <App />
      </StoreProvider>,
    );
    const tiles = await screen.findByRole('navigation', { name: 'Steps' });
    await waitFor(() => expect(within(tiles).getAllByRole('button').map((b) => b.textContent)).toEqual([
      'BoardOrange Pi PCAllwinner H3 · armv7',
      'Operating systemDebian 12 minimalCatalog',
      'CardKingston16 GB · /dev/sdc',
    ]));
    expect(within(tiles).getByRole('button', { name: /^Board/ }).getAttribute('aria-current')).toBe('step');
    expect(within(tiles).getByRole('button', { name: /^Board/ }).querySelector('svg[data-family="allwinner-sunxi32"]')).not.toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Review and flash' }));
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Check before writing');
    fireEvent.click(screen.getByRole('button', { name: 'Flash the card' }));
    await waitFor(() => expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('The card is ready'));
    expect(api.calls.find((c) => c.op === 'flash')).toMatchObject({ source: ENTRY.id, device: '/dev/sdc' });
  });

  it('says which catalog could not be read, and retries', async () => {
    let calls = 0;
    const api = fakeApi({
      listBoards: async () => ({ boards: [board()] }),
      catalog: async () => {
        calls += 1;
        return calls === 1 ? { entries: [ENTRY], problems: ['https://mirror.example/os_list.json: could not be reached (ECONNREFUSED)'] } : { entries: [ENTRY], problems: [] };
      },
    });
    render(
      <StoreProvider store={createAppStore({ client: createClient(api), storage: null, systemLanguages: ['en'] })}>
        <App />
      </StoreProvider>,
    );
    fireEvent.click(await screen.findByRole('radio', { name: /Orange Pi PC/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    const banner = await screen.findByText(/Some catalogs could not be read/);
    expect(banner.textContent).toContain('https://mirror.example/os_list.json: could not be reached (ECONNREFUSED)');
    expect(screen.getByText('Debian bookworm, console only')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(screen.queryByText(/Some catalogs could not be read/)).toBeNull());
    expect(calls).toBe(2);
  });

  it('takes an image or a rootfs dropped anywhere, from any step', async () => {
    const api = fakeApi({
      listBoards: async () => ({ boards: [board()] }),
      catalog: async () => ({ entries: [], problems: [] }),
      inspect: async (request) => ({
        inspection: { target: (request as { target: string }).target, sizeBytes: 8e6, table: 'mbr' as const, partitions: [], loaders: [], consistentBoards: [] },
      }),
    });
    api.droppedPaths.set('armbian.img.xz', '/home/me/armbian.img.xz');
    api.droppedPaths.set('root.tar.gz', '/home/me/root.tar.gz');
    render(
      <StoreProvider store={createAppStore({ client: createClient(api), storage: null, systemLanguages: ['en'] })}>
        <App />
      </StoreProvider>,
    );
    const drop = (name: string): void => {
      fireEvent.drop(screen.getByRole('heading', { level: 1 }), { dataTransfer: { files: [new File(['x'], name)], types: ['Files'], getData: () => '' } });
    };
    fireEvent.click(await screen.findByRole('radio', { name: /Orange Pi PC/ }));
    drop('armbian.img.xz');
    await waitFor(() => expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('What should go on the card?'));
    expect(screen.getByRole('tab', { name: 'Local file' }).getAttribute('aria-selected')).toBe('true');
    expect(await screen.findByText('Chosen image: /home/me/armbian.img.xz')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Settings' }));
    drop('root.tar.gz');
    await waitFor(() => expect(screen.getByRole('tab', { name: 'Build from rootfs' }).getAttribute('aria-selected')).toBe('true'));
    expect((screen.getByLabelText('Rootfs tarball or folder') as HTMLInputElement).value).toBe('/home/me/root.tar.gz');
  });

  it('inspects a card picked from the same drive list Verify uses', async () => {
    const api = fakeApi({
      listBoards: async () => ({ boards: [board()] }),
      listDrives: async () => ({ drives: [drive({ device: '/dev/vda', description: '0x1af4', readerKind: 'virtual' }), drive()] }),
      inspect: async (request) => ({
        inspection: { target: (request as { target: string }).target, sizeBytes: 32e9, table: 'none' as const, partitions: [], loaders: [], consistentBoards: [] },
      }),
    });
    render(
      <StoreProvider store={createAppStore({ client: createClient(api), storage: null, systemLanguages: ['en'] })}>
        <App />
      </StoreProvider>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Inspect a card' }));
    await screen.findByRole('option', { name: 'Generic SD reader (/dev/sdb, 32 GB)' });
    expect(screen.getByRole('option', { name: 'Virtual disk (/dev/vda, 32 GB)' })).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Card'), { target: { value: '/dev/sdb' } });
    expect((screen.getByLabelText('Card or image file') as HTMLInputElement).value).toBe('/dev/sdb');
    fireEvent.click(screen.getByRole('button', { name: 'Inspect' }));
    await waitFor(() => expect(api.calls.some((c) => c.op === 'inspect' && c.target === '/dev/sdb')).toBe(true));
  });
});
