/**
 * Several cards from the Card step, in the whole app with a scripted engine: the "several cards"
 * checkbox offers checkboxes, Review lists every card, one `flashMany` request writes them, the
 * Flash step shows a row per card from its card-tagged events with the speed of all together,
 * and Done lists each card's outcome with the failed one's reason in words. A customised image
 * cannot go to several cards, and says why. Also the Station page itself: untouched, taken, refused
 * (by size and by the reader filter), and the report with each card's reader and the image's sha256.
 */
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobEvent, RequestInput } from '../../../electron/engine/api';
import { heading, mountApp, nextButton } from './mount-app';
import { board, drive, fakeApi, type FakeApi } from './samples';

afterEach(cleanup);

const MiB = 1024 * 1024;
const SDB = drive({ device: '/dev/sdb', description: 'Kingston' });
const SDC = drive({ device: '/dev/sdc', description: 'SanDisk', sizeBytes: 16e9 });
const SYSTEM = drive({ device: '/dev/sda', description: 'System disk', system: true, unsafeReasons: ['system drive: holds /'] });

const image = { inspection: { target: '/img/a.img', sizeBytes: 64 * MiB, table: 'mbr' as const, partitions: [{ index: 1, start: MiB, size: 8 * MiB, type: 'c', bootable: true }], loaders: [], consistentBoards: [] } };

async function toCardStep(api: FakeApi): Promise<void> {
  fireEvent.click(await screen.findByRole('radio', { name: /Orange Pi PC/ }));
  fireEvent.click(nextButton());
  fireEvent.click(screen.getByRole('tab', { name: 'Local file' }));
  api.chosenFile = '/img/a.img';
  fireEvent.click(screen.getByRole('button', { name: 'Choose image file…' }));
  await screen.findByText('Chosen image: /img/a.img');
  await waitFor(() => expect(nextButton().disabled).toBe(false));
  fireEvent.click(nextButton());
  await screen.findByRole('checkbox', { name: 'Several cards at once' });
}

describe('several cards at once', { timeout: 30_000 }, () => {
  it('flashes two cards in one flashMany job, a row each, and lists each outcome', async () => {
    let release: (() => void) | null = null;
    const api = fakeApi({
      listBoards: async () => ({ boards: [board()] }),
      catalog: async () => ({ entries: [], problems: [] }),
      inspect: async () => image,
      listDrives: async () => ({ drives: [SYSTEM, SDB, SDC] }),
      flashMany: async (_request, emit) => {
        const tagged = (card: string, bytesDone: number): JobEvent => ({ type: 'progress', phase: 'write', bytesDone, bytesTotal: 1000, bytesPerSecond: 4e6, etaSeconds: 1, card });
        emit({ type: 'phase', phase: 'write', state: 'start', card: '/dev/sdb' });
        emit({ type: 'phase', phase: 'write', state: 'start', card: '/dev/sdc' });
        emit(tagged('/dev/sdb', 400));
        emit(tagged('/dev/sdc', 250));
        await new Promise<void>((resolve) => (release = resolve));
        return {
          cards: [
            { device: '/dev/sdb', ok: true, bytesWritten: 64 * MiB, verified: true, error: null },
            { device: '/dev/sdc', ok: false, bytesWritten: 4096, verified: false, error: { cause: 'io', message: 'write failed at byte 4096' } },
          ],
        };
      },
      flash: async (request) => ({ device: (request as { device: string }).device, bytesWritten: 64 * MiB, verified: true }),
    });
    const store = mountApp(api);
    await toCardStep(api);
    fireEvent.click(screen.getByRole('checkbox', { name: 'Several cards at once' }));
    fireEvent.click(screen.getByRole('checkbox', { name: /Kingston/ }));
    fireEvent.click(screen.getByRole('checkbox', { name: /SanDisk/ }));
    expect(within(screen.getByRole('navigation', { name: 'Steps' })).getByText('2 cards chosen')).toBeTruthy();
    expect(within(screen.getByRole('navigation', { name: 'Steps' })).getByText('/dev/sdb, /dev/sdc')).toBeTruthy();
    fireEvent.click(nextButton());
    expect(heading()).toBe('Check before writing');
    const cards = screen.getByRole('list');
    expect(within(cards).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['Kingston (/dev/sdb, 32 GB)', 'SanDisk (/dev/sdc, 16 GB)']);
    expect(screen.getByText('Everything on /dev/sdb, /dev/sdc will be erased.')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Flash the cards' }));

    await waitFor(() => expect(screen.getByText('writing 40%')).toBeTruthy());
    expect(screen.getByText('writing 25%')).toBeTruthy();
    expect(screen.getByText('All cards together: 8.0 MB/s')).toBeTruthy();
    const requests = api.calls.filter((r): r is Extract<RequestInput, { op: 'flashMany' }> => r.op === 'flashMany');
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ source: '/img/a.img', devices: ['/dev/sdb', '/dev/sdc'], board: 'orangepi-pc', verify: true });
    expect(api.calls.some((r) => r.op === 'flash')).toBe(false);

    await act(async () => release?.());
    await waitFor(() => expect(heading()).toBe('The cards are written'));
    expect(screen.getByText('Written: 1 of 2 cards.')).toBeTruthy();
    expect(screen.getByText('/dev/sdb: written and verified ✓')).toBeTruthy();
    expect(screen.getByText('/dev/sdc: failed ✗: Reading or writing failed: write failed at byte 4096')).toBeTruthy();

    // A one-card flash afterwards ends on the one-card Done, not on the old list.
    act(() => store.getState().actions.chooseDrive(SDB));
    act(() => store.getState().actions.goTo('review'));
    fireEvent.click(screen.getByRole('button', { name: 'Flash the card' }));
    await waitFor(() => expect(heading()).toBe('The card is ready'));
    expect(document.querySelector('.many-outcomes')).toBeNull();
  });

  it('says why a customised image cannot go to several cards', async () => {
    const api = fakeApi({
      listBoards: async () => ({ boards: [board()] }),
      catalog: async () => ({ entries: [], problems: [] }),
      inspect: async () => image,
      listDrives: async () => ({ drives: [SDB, SDC] }),
    });
    const store = mountApp(api);
    await toCardStep(api);
    act(() => store.getState().actions.setCustomise({ hostname: 'pi' }));
    const toggle = screen.getByRole('checkbox', { name: 'Several cards at once' }) as HTMLInputElement;
    expect(toggle.disabled).toBe(true);
    expect(screen.getByText(/customisation is written for one card at a time/)).toBeTruthy();
  });
});

describe('several cards where the writer takes one card per job', { timeout: 30_000 }, () => {
  it('keeps the toggle off on Windows and says why', async () => {
    const api = fakeApi({
      listBoards: async () => ({ boards: [board()] }),
      catalog: async () => ({ entries: [], problems: [] }),
      inspect: async () => image,
      listDrives: async () => ({ drives: [SDB, SDC] }),
    });
    api.platform = 'win32';
    mountApp(api);
    await toCardStep(api);
    const toggle = screen.getByRole('checkbox', { name: 'Several cards at once' }) as HTMLInputElement;
    expect(toggle.disabled).toBe(true);
    expect(screen.getByText(/the writer takes one card per job/)).toBeTruthy();
  });
});

describe('Station page', { timeout: 30_000 }, () => {
  it('lists the untouched drives, a row per card taken, the refused ones with why, and saves the report', async () => {
    const reader = (path: string) => ({ vendor: 'Generic', model: 'STORAGE DEVICE', serial: '0819', path });
    const kingston = { ...SDB, reader: reader('/sys/devices/usb1/1-1/1-1:1.0') };
    const small = { ...SDC, reader: reader('/sys/devices/usb1/1-2/1-2:1.0/a') };
    const big = drive({ device: '/dev/sdd', description: 'Big', reader: reader('/sys/devices/usb1/1-2/1-2:1.0/b') });
    const elsewhere = drive({ device: '/dev/sde', description: 'Elsewhere', reader: reader('/sys/devices/usb1/1-3/1-3:1.0') });
    let drives = [SYSTEM, kingston];
    const api = fakeApi({
      fetch: async (request) => ({ path: (request as { source: string }).source, sha256: 'ab'.repeat(32), sizeBytes: 1000 }),
      listDrives: async () => ({ drives }),
      flash: async (request) => ({ device: (request as { device: string }).device, bytesWritten: 1000, verified: true }),
    });
    const store = mountApp(api, ['de-DE']);
    act(() => {
      store.setState((s) => ({ flow: { ...s.flow, image: { kind: 'file', path: '/img/a.img' }, imageChecked: true } }));
      store.getState().actions.openScreen('station');
    });
    expect(heading()).toBe('Schreibstation');
    // The reader filter offers the readers of the drives listed now.
    await waitFor(() => expect([...document.querySelectorAll('#station-readers option')].map((o) => o.getAttribute('value'))).toEqual(['/sys/devices/usb1/1-1/1-1:1.0']));
    fireEvent.change(screen.getByLabelText('Kleinste Karte (GB, optional)'), { target: { value: '20' } });
    fireEvent.change(screen.getByLabelText('Nur Karten in diesem Lesegerät (Anschlusspfad, optional)'), { target: { value: ' /sys/devices/usb1/1-2 ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Station starten' }));
    await screen.findByText('Warte auf Karten: einstecken, der Rest geschieht von selbst.');
    expect(api.calls.filter((r) => r.op === 'fetch').map((r) => (r as { source: string }).source)).toEqual(['/img/a.img']);
    expect(screen.getByText(/Kingston \(\/dev\/sdb/)).toBeTruthy();
    // While the station takes every new card, the flow cannot write one of them too.
    expect((document.querySelector('.app-header nav button') as HTMLButtonElement).disabled).toBe(true);
    drives = [SYSTEM, kingston, small, big, elsewhere];
    await waitFor(() => expect(screen.getByText('1 Karte fertig ✓', { exact: false })).toBeTruthy(), { timeout: 5000 });
    expect(api.calls.filter((r) => r.op === 'flash').map((r) => (r as { device: string }).device)).toEqual(['/dev/sdd']);
    expect(screen.getByText('/dev/sdc: kleiner als 20 GB')).toBeTruthy();
    expect(screen.getByText('/dev/sde: sein Lesegerät /sys/devices/usb1/1-3/1-3:1.0 liegt nicht unter /sys/devices/usb1/1-2')).toBeTruthy();
    const row = document.querySelector('tr[data-device="/dev/sdd"]');
    expect(row?.getAttribute('data-state')).toBe('done');
    // jsdom has no object URLs; the page's download hands its Blob to this stand-in.
    const saved: Blob[] = [];
    Object.assign(URL, { createObjectURL: (blob: Blob) => (saved.push(blob), 'blob:report'), revokeObjectURL: vi.fn() });
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    fireEvent.click(screen.getByRole('button', { name: 'Bericht speichern (CSV)' }));
    expect(click).toHaveBeenCalledTimes(1);
    const csv = (await saved[0]?.text())?.split('\r\n') ?? [];
    expect(csv[0]).toBe('time,device,reader_vendor,reader_model,reader_serial,reader_path,size_bytes,image_sha256,bytes_written,result,error');
    expect(csv[1]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z,/dev/sdd,Generic,STORAGE DEVICE,0819,/sys/devices/usb1/1-2/1-2:1.0/b,32000000000,${'ab'.repeat(32)},1000,ok,$`));
    fireEvent.click(screen.getByRole('button', { name: 'Bericht speichern (JSON)' }));
    expect(JSON.parse((await saved[1]?.text()) ?? '')).toMatchObject({ cards: [{ device: '/dev/sdd', result: 'ok', bytesWritten: 1000, reader: big.reader, imageSha256: 'ab'.repeat(32) }] });
    click.mockRestore();
  });
});
