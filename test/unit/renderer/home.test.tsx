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
});
