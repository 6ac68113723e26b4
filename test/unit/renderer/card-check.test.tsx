/**
 * The Card step's "Check this card": says whether the chosen card was checked before, asks first
 * (the check erases the card), runs the check op and shows the verdict.
 */
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, expect, it } from 'vitest';
import type { ResultOf } from '../../../electron/engine/api';
import { createClient } from '../../../renderer/src/client/cardsmith-client';
import { CardPage } from '../../../renderer/src/pages/card-page';
import { createAppStore } from '../../../renderer/src/store/app-store';
import { StoreProvider } from '../../../renderer/src/store/store-context';
import { drive, fakeApi } from './samples';

afterEach(cleanup);

const CHECK: ResultOf<'check'> = {
  device: '/dev/sdb',
  verdict: 'fake-capacity',
  summary: 'Fake capacity: claims 1024.0 MiB but holds 96.0 MiB (real size 100663296 bytes); addresses past it wrap around onto the start.',
  capacity: { claimedBytes: 2 ** 30, realBytes: 96 * 2 ** 20, resolutionBytes: 4096, failures: ['wrap-around'], badBlocks: [], badBlockCount: 0, blocksWritten: 2176, blockBytes: 4096 },
  identity: { key: 'usb:0bda:0109:-:generic-:sd/mmc:1073741824', kind: 'usb', fields: {} },
  checkedAt: '2026-12-07T00:00:00.000Z',
  seconds: 1.5,
};

it('checks the chosen card only after the person confirms, and shows the verdict', { timeout: 30_000 }, async () => {
  const api = fakeApi({ listDrives: async () => ({ drives: [drive()] }), check: async () => CHECK, lastCheck: async () => ({ check: null }) });
  const store = createAppStore({ client: createClient(api), storage: null, systemLanguages: ['en-US'] });
  render(
    <StoreProvider store={store}>
      <CardPage />
    </StoreProvider>,
  );
  const button = screen.getByRole('button', { name: 'Check this card' }) as HTMLButtonElement;
  expect(button.disabled).toBe(true);
  act(() => store.getState().actions.chooseDrive(drive()));
  expect(button.disabled).toBe(false);
  expect(await screen.findByText(/This card has not been checked/)).toBeTruthy();
  fireEvent.click(button);
  const dialog = screen.getByRole('alertdialog');
  expect(dialog.textContent).toMatch(/erases everything on it/);
  expect(api.calls.some((c) => c.op === 'check')).toBe(false);
  fireEvent.click(within(dialog).getByRole('button', { name: 'Check this card' }));
  expect((await screen.findByRole('status')).textContent).toBe(`/dev/sdb: ${CHECK.summary}`);
  expect(api.calls).toContainEqual({ op: 'check', device: '/dev/sdb' });
  expect(screen.queryByText(/This card has not been checked/)).toBeNull();
});

it('shows the remembered check of a card checked before', { timeout: 30_000 }, async () => {
  const api = fakeApi({ listDrives: async () => ({ drives: [drive()] }), lastCheck: async () => ({ check: CHECK }) });
  const store = createAppStore({ client: createClient(api), storage: null, systemLanguages: ['en-US'] });
  render(
    <StoreProvider store={store}>
      <CardPage />
    </StoreProvider>,
  );
  act(() => store.getState().actions.chooseDrive(drive()));
  expect(await screen.findByText(`Checked on 2026-12-07: ${CHECK.summary}`)).toBeTruthy();
  expect(api.calls).toContainEqual({ op: 'lastCheck', device: '/dev/sdb' });
});
