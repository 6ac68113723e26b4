/**
 * Issue 15's renderer bugs, each against the whole app in jsdom with a scripted `window.cardsmith`:
 * Done follows the eject result, progress rows keep the blame on failure and finish a download,
 * a local file is checked on entry without CLI advice, Verify is pre-filled with a file (never a
 * catalog id) and reads the cache, hidden drives are counted and explained in words, the URL
 * field speaks the UI language, and a badly damaged card is summarised.
 */
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobEvent, RequestInput } from '../../../electron/engine/api';
import { heading, mountApp, nextButton } from './mount-app';
import { board, drive, fakeApi, ScriptedError, type FakeApi } from './samples';

afterEach(cleanup);

const MiB = 1024 * 1024;
const BOARDS = [board()];

function inspection(target: string, sizeBytes: number, table: 'mbr' | 'none' = 'mbr') {
  return {
    inspection: {
      target,
      sizeBytes,
      table,
      partitions: table === 'mbr' ? [{ index: 1, start: MiB, size: 8 * MiB, type: 'c', bootable: true }] : [],
      loaders: [],
      consistentBoards: [],
    },
    image: { path: target, compression: 'none' as const, sizeBytes, sizeIsEstimate: false, hasBmap: false },
  };
}



async function chooseFile(api: FakeApi, path: string): Promise<void> {
  fireEvent.click(await screen.findByRole('radio', { name: /Orange Pi PC/ }));
  fireEvent.click(nextButton());
  fireEvent.click(screen.getByRole('tab', { name: 'Local file' }));
  api.chosenFile = path;
  fireEvent.click(screen.getByRole('button', { name: 'Choose image file…' }));
  await screen.findByText(`Chosen image: ${path}`);
}

/** Board → a checked local file → the only card → Review → Flash. */
async function flashFile(api: FakeApi): Promise<void> {
  await chooseFile(api, '/img/a.img');
  await waitFor(() => expect(nextButton().disabled).toBe(false));
  fireEvent.click(nextButton());
  await waitFor(() => expect((screen.getByRole('radio', { name: /Generic SD reader/ }) as HTMLInputElement).checked).toBe(true));
  fireEvent.click(nextButton());
  fireEvent.click(screen.getByRole('button', { name: 'Flash the card' }));
}

const base = {
  listBoards: async () => ({ boards: BOARDS }),
  catalog: async () => ({ entries: [], problems: [] }),
  inspect: async (request: RequestInput) => inspection((request as { target: string }).target, 64 * MiB),
  listDrives: async () => ({ drives: [drive()] }),
};

function flashEmitting(events: readonly JobEvent[]) {
  return async (request: RequestInput, emit: (e: JobEvent) => void) => {
    for (const event of events) emit(event);
    return { device: (request as { device: string }).device, bytesWritten: 64e6, verified: true };
  };
}

describe('issue 15: the app follows what really happened', { timeout: 30_000 }, () => {
  it('says the card is safe to remove only when the eject phase ended done', async () => {
    const skipped = fakeApi({
      ...base,
      flash: flashEmitting([
        { type: 'phase', phase: 'write', state: 'done' },
        { type: 'phase', phase: 'eject', state: 'skipped', detail: 'no eject tool succeeded' },
      ]),
    });
    mountApp(skipped);
    await flashFile(skipped);
    await waitFor(() => expect(heading()).toBe('The card is ready'));
    expect(screen.queryByText('It is safe to remove the card.')).toBeNull();
    expect(screen.getByText(/could not be ejected \(no eject tool succeeded\)/)).toBeTruthy();
    cleanup();

    const ejected = fakeApi({ ...base, flash: flashEmitting([{ type: 'phase', phase: 'eject', state: 'done' }]) });
    mountApp(ejected);
    await flashFile(ejected);
    await waitFor(() => expect(heading()).toBe('The card is ready'));
    expect(screen.getByText('It is safe to remove the card.')).toBeTruthy();
  });

  it('keeps the failed phase marked, and the heading says the flash failed', async () => {
    const api = fakeApi({
      ...base,
      flash: async (_request, emit) => {
        emit({ type: 'phase', phase: 'unmount', state: 'done' });
        emit({ type: 'progress', phase: 'write', bytesDone: 16e6, bytesTotal: 64e6, bytesPerSecond: 8e6, etaSeconds: 6 });
        throw new ScriptedError({ cause: 'io', message: 'EIO at byte 16000000' });
      },
    });
    mountApp(api);
    await flashFile(api);
    await waitFor(() => expect(heading()).toBe('Flashing failed'));
    const write = document.querySelector('.phase-row[data-phase="write"]') as HTMLElement;
    expect(write.getAttribute('data-status')).toBe('failed');
    expect(within(write).getByText('failed here')).toBeTruthy();
    expect(screen.getByText('Failed during “Write”.')).toBeTruthy();
    expect(document.querySelector('.phase-row[data-phase="verify"]')?.getAttribute('data-status')).toBe('pending');
  });

  it('refuses a missing file and a 36-byte text file on the Image step, with no CLI advice', async () => {
    const api = fakeApi({
      ...base,
      inspect: async (request) => {
        const target = (request as { target: string }).target;
        if (target === '/img/missing.img') {
          throw new ScriptedError({ cause: 'bad-input', message: `"${target}" is not a file, an http(s) URL or a catalog id`, hint: 'Run `cardsmith catalog` for the ids.' });
        }
        return inspection(target, 36, 'none');
      },
    });
    mountApp(api);
    await chooseFile(api, '/img/missing.img');
    expect(await screen.findByText('/img/missing.img does not exist or cannot be read.')).toBeTruthy();
    expect(document.body.textContent).not.toContain('cardsmith catalog');
    expect(nextButton().disabled).toBe(true);

    api.chosenFile = '/img/notes.txt';
    fireEvent.click(screen.getByRole('button', { name: 'Choose image file…' }));
    expect(await screen.findByText(/\/img\/notes\.txt is not a disk image: 36 bytes/)).toBeTruthy();
    expect(nextButton().disabled).toBe(true);
    expect((document.querySelector('.tiles [data-step="card"]') as HTMLButtonElement).disabled).toBe(true);
  });

  it('pre-fills Verify with the cached file of a catalog image, not its id', async () => {
    const entry = { id: 'debian-12-orangepi-pc', name: 'Debian 12 minimal', description: '', kind: 'image' as const, boards: ['orangepi-pc'], url: 'https://example.org/d.img.xz', cached: true };
    const api = fakeApi({
      ...base,
      catalog: async () => ({ entries: [entry], problems: [] }),
      fetch: async () => ({ path: '/cache/sha/d.img.xz', sha256: 'ab'.repeat(32), sizeBytes: 1000 }),
      flash: flashEmitting([]),
      verify: async () => ({ device: '/dev/sdb', ok: true, bytesChecked: 64e6, mismatches: [], mismatchCount: 0, mismatchBytes: 0 }),
    });
    mountApp(api);
    fireEvent.click(await screen.findByRole('radio', { name: /Orange Pi PC/ }));
    fireEvent.click(nextButton());
    await waitFor(() => expect((screen.getByRole('radio', { name: /Debian 12 minimal/ }) as HTMLInputElement).checked).toBe(true));
    fireEvent.click(nextButton());
    await waitFor(() => expect((screen.getByRole('radio', { name: /Generic SD reader/ }) as HTMLInputElement).checked).toBe(true));
    fireEvent.click(nextButton());
    fireEvent.click(screen.getByRole('button', { name: 'Flash the card' }));
    await waitFor(() => expect(heading()).toBe('The card is ready'));
    await waitFor(() => expect(api.calls.some((c) => c.op === 'fetch')).toBe(true));
    fireEvent.click(screen.getByRole('button', { name: 'Verify a card' }));
    expect((screen.getByLabelText('Image') as HTMLInputElement).value).toBe('/cache/sha/d.img.xz');
  });

  it('flashes a URL image straight from its source, and verifies it again from the cache', async () => {
    const api = fakeApi({
      ...base,
      fetch: async () => ({ path: '/cache/u/a.img', sha256: 'cd'.repeat(32), sizeBytes: 1000 }),
      // The download overlaps the write inside the flash job.
      flash: flashEmitting([
        { type: 'phase', phase: 'fetch', state: 'start' },
        { type: 'progress', phase: 'fetch', bytesDone: 500, bytesTotal: 1000, bytesPerSecond: 100, etaSeconds: 5 },
        { type: 'phase', phase: 'write', state: 'done' },
      ]),
      verify: async () => ({ device: '/dev/sdb', ok: true, bytesChecked: 64e6, mismatches: [], mismatchCount: 0, mismatchBytes: 0 }),
    });
    const store = mountApp(api);
    fireEvent.click(await screen.findByRole('radio', { name: /Orange Pi PC/ }));
    fireEvent.click(nextButton());
    fireEvent.click(screen.getByRole('tab', { name: 'URL' }));
    fireEvent.change(screen.getByLabelText('Image URL'), { target: { value: 'https://example.org/a.img' } });
    fireEvent.click(screen.getByRole('button', { name: 'Use this URL' }));
    fireEvent.click(nextButton());
    await waitFor(() => expect((screen.getByRole('radio', { name: /Generic SD reader/ }) as HTMLInputElement).checked).toBe(true));
    fireEvent.click(nextButton());
    fireEvent.click(screen.getByRole('button', { name: 'Flash the card' }));
    await waitFor(() => expect(heading()).toBe('The card is ready'));
    // The download's row ends with the job even though the engine never said "fetch done".
    expect(store.getState().job?.phases.find((r) => r.phase === 'fetch')?.status).toBe('done');
    expect(api.calls.find((c) => c.op === 'flash')).toMatchObject({ source: 'https://example.org/a.img' });
    await waitFor(() => expect(store.getState().flashedSource).toBe('/cache/u/a.img'));
    fireEvent.click(screen.getByRole('button', { name: 'Verify again' }));
    await screen.findByText(/The card matches the image/);
    expect(api.calls.find((c) => c.op === 'verify')).toMatchObject({ source: '/cache/u/a.img' });
    expect(api.calls.filter((c) => c.op === 'fetch')).toHaveLength(1);
  });

  it('counts hidden drives when no card is found and explains them in words', async () => {
    const api = fakeApi({
      ...base,
      listDrives: async (request) =>
        (request as { all?: boolean }).all
          ? {
              drives: [
                drive({
                  device: '/dev/vda',
                  description: '0x1af4',
                  readerKind: 'virtual',
                  system: true,
                  unsafeReasons: ['system drive: holds /', 'virtual device (disk vda), not a card'],
                  unsafeKeys: [
                    { key: 'drive.systemHolds', params: { mounts: '/' } },
                    { key: 'drive.virtual', params: { type: 'disk', name: 'vda' } },
                  ],
                }),
                drive({ device: '/dev/loop3', description: 'Loop device', readerKind: 'loop', unsafeReasons: ['loop device (offered only with the development option allowLoop)'], unsafeKeys: [{ key: 'drive.loop', params: {} }] }),
              ],
            }
          : { drives: [drive({ device: '/dev/vda', description: '0x1af4', readerKind: 'virtual', system: true, unsafeReasons: ['system drive: holds /'] }), drive({ device: '/dev/loop3', description: 'Loop device', readerKind: 'loop', unsafeReasons: ['loop device (offered only with the development option allowLoop)'], unsafeKeys: [{ key: 'drive.loop', params: {} }] })] },
    });
    mountApp(api);
    await chooseFile(api, '/img/a.img');
    await waitFor(() => expect(nextButton().disabled).toBe(false));
    fireEvent.click(nextButton());
    expect(await screen.findByText(/^No card found/)).toBeTruthy();
    expect(screen.getByText(/2 drives are hidden because they are not safe to write\./)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Show them and why' }));
    fireEvent.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Next' }));
    const vda = await screen.findByRole('radio', { name: /Virtual disk — 32 GB/ });
    expect((vda as HTMLInputElement).disabled).toBe(true);
    expect(screen.getByText('Not writable: holds the system (/), a virtual disk (disk vda), not a card')).toBeTruthy();
    expect(screen.getByText('Not writable: a loop device (a file posing as a disk), not a card')).toBeTruthy();
    expect(document.body.textContent).not.toMatch(/allowLoop|0x1af4/);
  });

  it('shows its own URL message in the UI language, never the browser bubble', async () => {
    const api = fakeApi(base);
    mountApp(api, ['de-DE']);
    fireEvent.click(await screen.findByRole('radio', { name: /Orange Pi PC/ }));
    fireEvent.click(nextButton());
    fireEvent.click(screen.getByRole('tab', { name: 'URL' }));
    const field = screen.getByLabelText('URL des Abbilds') as HTMLInputElement;
    fireEvent.change(field, { target: { value: 'kein url' } });
    const form = field.closest('form') as HTMLFormElement;
    // Browser validation would stop the submit with its own (English) bubble; the form opts out.
    expect(form.noValidate).toBe(true);
    fireEvent.submit(form);
    expect(await screen.findByText('Bitte eine http://- oder https://-Adresse eingeben.')).toBeTruthy();
    expect(field.getAttribute('aria-invalid')).toBe('true');
  });

  it('summarises a card that differs in 35 000 ranges and lists only the first few', async () => {
    // The engine sends the first 32 ranges with the count and bytes of all 35 000.
    const mismatches = Array.from({ length: 32 }, (_, i) => ({ start: i * 8192, end: i * 8192 + 4096 }));
    const api = fakeApi({
      ...base,
      verify: async (_request, emit) => {
        emit({ type: 'log', level: 'info', message: 'verify /dev/sdb against /img/a.img (log /logs/verify-sdb.log)' });
        return { device: '/dev/sdb', ok: false, bytesChecked: 64e6, mismatches, mismatchCount: 35_000, mismatchBytes: 35_000 * 4096 };
      },
    });
    mountApp(api);
    fireEvent.click(screen.getByRole('button', { name: 'Verify a card' }));
    fireEvent.change(screen.getByLabelText('Image'), { target: { value: '/img/a.img' } });
    await screen.findByRole('option', { name: /Generic SD reader/ });
    fireEvent.change(screen.getByLabelText('Card'), { target: { value: '/dev/sdb' } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify' }));
    expect(await screen.findByText('35,000 ranges differ, 143 MB in all.')).toBeTruthy();
    expect(document.querySelectorAll('.verify-mismatch li')).toHaveLength(10);
    expect(screen.getByText(/34,990 more ranges are in the log\./)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Open log' }));
    await waitFor(() => expect(api.shown).toEqual(['/logs/verify-sdb.log']));
  });

  it('notifies when a flash ends, done or failed, in the UI language', async () => {
    const notes: string[][] = [];
    const ok = fakeApi({ ...base, flash: flashEmitting([]) });
    mountApp(ok, ['de-DE'], (title, body) => notes.push([title, body]));
    fireEvent.click(await screen.findByRole('radio', { name: /Orange Pi PC/ }));
    fireEvent.click(nextButton());
    fireEvent.click(screen.getByRole('tab', { name: 'Lokale Datei' }));
    ok.chosenFile = '/img/a.img';
    fireEvent.click(screen.getByRole('button', { name: 'Abbild-Datei wählen…' }));
    await waitFor(() => expect(nextButton().disabled).toBe(false));
    fireEvent.click(nextButton());
    await waitFor(() => expect((screen.getByRole('radio', { name: /Generic SD reader/ }) as HTMLInputElement).checked).toBe(true));
    fireEvent.click(nextButton());
    fireEvent.click(screen.getByRole('button', { name: 'Jetzt schreiben' }));
    await waitFor(() => expect(notes).toEqual([['Die Karte ist fertig', '64 MB auf /dev/sdb geschrieben.']]));
    cleanup();

    const failing = fakeApi({
      ...base,
      flash: async () => {
        throw new ScriptedError({ cause: 'io', message: 'EIO at byte 0' });
      },
    });
    notes.length = 0;
    mountApp(failing, ['en-US'], (title, body) => notes.push([title, body]));
    await flashFile(failing);
    await waitFor(() => expect(notes).toEqual([['Flashing failed', 'EIO at byte 0']]));
  });
});
