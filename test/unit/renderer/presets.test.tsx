/**
 * Customisation presets in the GUI: saved from Settings (hashes only, one default), and a default
 * preset offered by the Customise step at flash time, which Next then stops at.
 */
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Preset, RequestInput } from '../../../electron/engine/api';
import { heading, mountApp, nextButton } from './mount-app';
import { board, drive, fakeApi, type FakeApi } from './samples';

afterEach(cleanup);

const MiB = 1024 * 1024;
const HASH = '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';

/** A presets op over an in-memory list, saving and removing as customise/presets.ts does. */
function presetsApi(initial: Preset[]): FakeApi {
  let saved = initial;
  return fakeApi({
    listBoards: async () => ({ boards: [board()] }),
    catalog: async () => ({ entries: [], problems: [] }),
    inspect: async (request: RequestInput) => ({
      inspection: { target: (request as { target: string }).target, sizeBytes: 64 * MiB, table: 'none' as const, partitions: [], loaders: [], consistentBoards: [] },
      image: { path: '/img/a.img', compression: 'none' as const, sizeBytes: 64 * MiB, sizeIsEstimate: false, hasBmap: false },
    }),
    listDrives: async () => ({ drives: [drive()] }),
    flash: async (request: RequestInput) => ({ device: (request as { device: string }).device, bytesWritten: 64e6, verified: true }),
    presets: async (request: RequestInput) => {
      const { save, remove } = request as Extract<RequestInput, { op: 'presets' }>;
      if (remove) saved = saved.filter((p) => p.name !== remove);
      if (save) saved = [...saved.filter((p) => p.name !== save.name).map((p) => (save.default ? { name: p.name, settings: p.settings } : p)), save];
      return { presets: saved };
    },
  });
}


const presetCalls = (api: FakeApi) => api.calls.filter((c): c is Extract<RequestInput, { op: 'presets' }> => c.op === 'presets');

describe('customisation presets', { timeout: 30_000 }, () => {
  it('saves the current customisation from Settings as the default, and deletes it', async () => {
    const api = presetsApi([]);
    const store = mountApp(api);
    store.getState().actions.setCustomise({ hostname: 'lab', user: { name: 'pi', passwordHash: HASH, sudo: true } });
    store.getState().actions.openScreen('settings');
    await screen.findByText('No presets saved yet.');
    fireEvent.change(screen.getByLabelText('Preset name'), { target: { value: ' lab ' } });
    fireEvent.click(screen.getByLabelText('Offer it at each flash (default)'));
    fireEvent.click(screen.getByRole('button', { name: 'Save the current customisation' }));
    await screen.findByRole('button', { name: 'Delete lab' });
    expect(presetCalls(api).at(-1)?.save).toEqual({ name: 'lab', settings: { hostname: 'lab', user: { name: 'pi', passwordHash: HASH, sudo: true } }, default: true });
    expect((screen.getByRole('radio', { name: 'lab' }) as HTMLInputElement).checked).toBe(true);
    expect(store.getState().flow.presetOffer?.name).toBe('lab');

    fireEvent.click(screen.getByRole('radio', { name: 'No default' }));
    await waitFor(() => expect(store.getState().flow.presetOffer).toBeNull());
    fireEvent.click(screen.getByRole('button', { name: 'Delete lab' }));
    await screen.findByText('No presets saved yet.');
  });

  it('offers the default preset in the Customise step, which Next then stops at, and flashes with it', async () => {
    const api = presetsApi([{ name: 'home', settings: { hostname: 'home' } }, { name: 'lab', settings: { hostname: 'lab', timezone: 'Europe/Berlin' }, default: true }]);
    const store = mountApp(api);
    await store.getState().actions.loadPresets();
    fireEvent.click(await screen.findByRole('radio', { name: /Orange Pi PC/ }));
    fireEvent.click(nextButton());
    fireEvent.click(screen.getByRole('tab', { name: 'Local file' }));
    api.chosenFile = '/img/a.img';
    fireEvent.click(screen.getByRole('button', { name: 'Choose image file…' }));
    await waitFor(() => expect(nextButton().disabled).toBe(false));
    fireEvent.click(nextButton());
    expect(heading()).toBe('Customise the system');
    await screen.findByText("Use preset 'lab'?");
    fireEvent.click(screen.getByRole('button', { name: 'Use preset' }));
    expect((screen.getByLabelText('Host name') as HTMLInputElement).value).toBe('lab');
    fireEvent.click(screen.getByRole('button', { name: 'Use these settings' }));
    await waitFor(() => expect(heading()).toBe('Which card should be written?'));
    await waitFor(() => expect(nextButton().disabled).toBe(false));
    fireEvent.click(nextButton());
    expect(screen.getByText(/host name lab · region Europe\/Berlin/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Flash the card' }));
    await waitFor(() => expect(api.calls.some((c) => c.op === 'flash')).toBe(true));
    expect((api.calls.find((c) => c.op === 'flash') as Extract<RequestInput, { op: 'flash' }>).customise).toEqual({ hostname: 'lab', timezone: 'Europe/Berlin' });
  });
});
