/**
 * Component tests of the whole flow in jsdom, against a scripted `window.cardsmith`: each step
 * renders what the contract returns, choices move the flow, engine errors are shown by cause,
 * progress is drawn per phase, and cancel reaches the api with the running job's id.
 */
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobEvent, RequestInput } from '../../../electron/engine/api';
import { type AppStore } from '../../../renderer/src/store/app-store';
import { heading, mountApp } from './mount-app';
import { board, drive, fakeApi, type FakeApi } from './samples';

afterEach(cleanup);

const BOARDS = [board(), board({ id: 'rock64', name: 'ROCK64', vendor: 'Pine64', soc: 'Rockchip RK3328', family: 'rockchip', arch: 'aarch64' })];
const INSPECTION = {
  inspection: {
    target: '/img/a.img',
    sizeBytes: 64 * 1024 * 1024,
    table: 'mbr' as const,
    partitions: [{ index: 1, start: 1048576, size: 32 * 1024 * 1024, type: 'c', bootable: true, label: 'BOOT' }],
    loaders: [],
    consistentBoards: [],
  },
  image: { path: '/img/a.img', compression: 'xz' as const, sizeBytes: 64 * 1024 * 1024, sizeIsEstimate: false, hasBmap: false },
};



async function toCardStep(api: FakeApi): Promise<AppStore> {
  const store = mountApp(api);
  fireEvent.click(await screen.findByRole('radio', { name: /Orange Pi PC/ }));
  fireEvent.click(screen.getByRole('button', { name: 'Next' }));
  fireEvent.click(screen.getByRole('tab', { name: 'Local file' }));
  api.chosenFile = '/img/a.img';
  fireEvent.click(screen.getByRole('button', { name: 'Choose image file…' }));
  await screen.findByText('Chosen image: /img/a.img');
  await screen.findByText('xz');
  fireEvent.click(screen.getByRole('button', { name: 'Next' }));
  return store;
}

// Generous timeout: these render the whole app in jsdom on a shared, busy machine.
describe('the guided flow', { timeout: 30_000 }, () => {
  it('groups boards by vendor and SoC, searches, and offers generic', async () => {
    const api = fakeApi({ listBoards: async () => ({ boards: BOARDS }), catalog: async () => ({ entries: [], problems: [] }) });
    mountApp(api);
    expect(heading()).toBe('Which board will the card boot?');
    expect(await screen.findByRole('group', { name: 'Pine64' })).toBeTruthy();
    expect(screen.getByRole('group', { name: 'Xunlong Allwinner H3' })).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Search boards'), { target: { value: 'rockchip' } });
    expect(screen.queryByRole('radio', { name: /Orange Pi PC/ })).toBeNull();
    expect(screen.getByRole('radio', { name: /ROCK64/ })).toBeTruthy();
    expect(screen.getByRole('radio', { name: /Generic — no bootloader/ })).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('radio', { name: /ROCK64/ }));
    expect((screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('shows a not-implemented engine error by its cause, with the hint and copy details', async () => {
    mountApp(fakeApi({}));
    const alert = await screen.findByRole('alert');
    expect(within(alert).getByRole('heading').textContent).toBe('Not available yet');
    expect(alert.textContent).toContain('listBoards: not implemented yet');
    expect(within(alert).getByRole('button', { name: 'Copy details' })).toBeTruthy();
    expect(within(alert).getByRole('button', { name: 'Try again' })).toBeTruthy();
  });

  it('lists cards, disables one that is too small, hides system drives, and reviews the layout', async () => {
    const api = fakeApi({
      listBoards: async () => ({ boards: BOARDS }),
      catalog: async () => ({ entries: [], problems: [] }),
      inspect: async () => INSPECTION,
      listDrives: async () => ({
        drives: [drive(), drive({ device: '/dev/sdc', description: 'Tiny', sizeBytes: 16 * 1024 * 1024 }), drive({ device: '/dev/sda', system: true, unsafeReasons: ['holds /'] })],
      }),
    });
    await toCardStep(api);
    expect(heading()).toBe('Which card should be written?');
    const big = await screen.findByRole('radio', { name: /Generic SD reader — 32 GB/ });
    const tiny = screen.getByRole('radio', { name: /Tiny/ }) as HTMLInputElement;
    expect(tiny.disabled).toBe(true);
    expect(screen.getByText(/Too small: the image needs 67 MB/)).toBeTruthy();
    expect(screen.queryByRole('radio', { name: /sda/ })).toBeNull();
    expect(screen.getByText('1 drive is hidden because it is not safe to write.')).toBeTruthy();
    fireEvent.click(big);
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(heading()).toBe('Check before writing');
    expect(screen.getByText('Everything on /dev/sdb (32 GB) will be erased.')).toBeTruthy();
    await waitFor(() => expect(screen.getAllByRole('img', { name: /Card layout/ }).length).toBe(2));
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toContain('Loader “u-boot-sunxi-with-spl.bin” — 1,016 KiB, 8 KiB to 1 MiB');
    expect(api.calls.some((c) => c.op === 'inspect' && c.target === '/dev/sdb')).toBe(true);
  });

  it('plans a rootfs build on Review and draws the partitions and loader it will write', async () => {
    const MIB = 1024 * 1024;
    const plan = {
      sizeBytes: 200 * MIB,
      table: 'mbr' as const,
      partitions: [
        { index: 1, start: MIB, size: 16 * MIB, type: '0x0e', bootable: true, filesystem: 'vfat (FAT16)', label: 'BOOT' },
        { index: 2, start: 17 * MIB, size: 183 * MIB, type: '0x83', bootable: false, filesystem: 'ext4', label: 'rootfs' },
      ],
      loaderWrites: [{ file: 'u-boot-sunxi-with-spl.bin', offset: 8192, length: 600_000 }],
      rootNeededBytes: 150 * MIB,
    };
    const api = fakeApi({
      listBoards: async () => ({ boards: BOARDS }),
      catalog: async () => ({ entries: [], problems: [] }),
      inspect: async () => INSPECTION,
      listDrives: async () => ({ drives: [drive()] }),
      planBuild: async () => plan,
    });
    mountApp(api);
    fireEvent.click(await screen.findByRole('radio', { name: /Orange Pi PC/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    fireEvent.click(screen.getByRole('tab', { name: 'Build from rootfs' }));
    fireEvent.change(screen.getByLabelText('Rootfs tarball or folder'), { target: { value: '/r/root.tar.gz' } });
    fireEvent.click(screen.getByRole('button', { name: 'Use this rootfs' }));
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    fireEvent.click(await screen.findByRole('radio', { name: /Generic SD reader — 32 GB/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(heading()).toBe('Check before writing');
    await screen.findByText(/Partition “rootfs”/);
    const after = screen.getByText('After flashing').closest('figure') as HTMLElement;
    const legend = within(after)
      .getAllByRole('listitem')
      .map((item) => item.textContent);
    expect(legend).toEqual([
      'Partition table “MBR” — 512 B, 0 B to 512 B',
      'Loader “u-boot-sunxi-with-spl.bin” — 586 KiB, 8 KiB to 594 KiB',
      'Partition “BOOT” — 16 MiB, 1 MiB to 17 MiB',
      'Partition “rootfs” — 183 MiB, 17 MiB to 200 MiB',
    ]);
    // Human sizes in the legend, the exact offsets in hex on hover; neighbouring partitions differ in colour.
    expect(within(after).getByText('183 MiB, 17 MiB to 200 MiB').getAttribute('title')).toBe('0x1100000 – 0xc800000');
    const partitions = Array.from(after.querySelectorAll('.layout-bar .segment-partition')).map((el) => el.className);
    expect(partitions).toEqual(['segment segment-partition p1', 'segment segment-partition p2']);
    expect(api.calls.find((c) => c.op === 'planBuild')).toMatchObject({ recipe: { board: 'orangepi-pc', rootfs: '/r/root.tar.gz', rootSize: { mode: 'minimal' } } });
  });

  it('asks for the device name before flashing a drive over 128 GB', async () => {
    const api = fakeApi({
      listBoards: async () => ({ boards: BOARDS }),
      catalog: async () => ({ entries: [], problems: [] }),
      inspect: async () => INSPECTION,
      listDrives: async () => ({ drives: [drive({ device: '/dev/sdx', sizeBytes: 256e9 })] }),
    });
    await toCardStep(api);
    fireEvent.click(await screen.findByRole('radio', { name: /256 GB/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    const flash = screen.getByRole('button', { name: 'Flash the card' }) as HTMLButtonElement;
    expect(flash.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('Confirmation'), { target: { value: 'sdx' } });
    expect(flash.disabled).toBe(false);
  });

  it('draws one progress row per phase, cancels the running job, and reports the cancel', async () => {
    let release: (() => void) | null = null;
    const api = fakeApi({
      listBoards: async () => ({ boards: BOARDS }),
      catalog: async () => ({ entries: [], problems: [] }),
      inspect: async () => INSPECTION,
      listDrives: async () => ({ drives: [drive()] }),
      flash: (_request: RequestInput, emit: (e: JobEvent) => void) =>
        new Promise((_resolve, reject) => {
          emit({ type: 'phase', phase: 'unmount', state: 'done' });
          emit({ type: 'phase', phase: 'write', state: 'start' });
          emit({ type: 'progress', phase: 'write', bytesDone: 16e6, bytesTotal: 64e6, bytesPerSecond: 8e6, etaSeconds: 6 });
          release = () => reject(Object.assign(new Error('Cancelled by the user'), { info: { cause: 'cancelled', message: 'Cancelled by the user' } }));
        }),
    });
    await toCardStep(api);
    fireEvent.click(await screen.findByRole('radio', { name: /Generic SD reader/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    fireEvent.click(screen.getByRole('button', { name: 'Flash the card' }));
    expect(heading()).toBe('Writing the card');
    const write = await screen.findByRole('progressbar', { name: 'Write' });
    await waitFor(() => expect(write.getAttribute('value')).toBe('0.25'));
    expect(screen.getByText(/16 MB \/ 64 MB · 8.0 MB\/s · 0:06 left/)).toBeTruthy();
    expect(screen.getAllByRole('progressbar').map((p) => p.getAttribute('aria-label'))).toEqual(['Unmount', 'Write', 'Bootloader', 'Verify', 'Eject']);
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(api.cancelled).toHaveLength(1));
    expect(api.cancelled[0]).toMatch(/^flash-/);
    await act(async () => release?.());
    expect(await screen.findByText('Stopped during “Write”. Cancelled. The card is incomplete; flash it again before use.')).toBeTruthy();
    expect(heading()).toBe('Flashing cancelled');
    expect(screen.queryByText(/Cancelled by the user/)).toBeNull();
    expect(document.querySelector('.phase-row[data-phase="write"]')?.getAttribute('data-status')).toBe('cancelled');
    expect(within(document.querySelector('.phase-rows') as HTMLElement).getAllByText('stopped here')).toHaveLength(1);
    expect(screen.getByRole('button', { name: 'Back to review' })).toBeTruthy();
  });

  it('ends on Done with verify-again and flash-another after a successful flash', async () => {
    const api = fakeApi({
      listBoards: async () => ({ boards: BOARDS }),
      catalog: async () => ({ entries: [], problems: [] }),
      inspect: async () => INSPECTION,
      listDrives: async () => ({ drives: [drive()] }),
      flash: async (request, emit) => {
        emit({ type: 'phase', phase: 'write', state: 'done' });
        emit({ type: 'phase', phase: 'eject', state: 'done', detail: 'udisksctl power-off' });
        return { device: (request as { device: string }).device, bytesWritten: 64e6, verified: true, logFile: '/home/me/.cache/cardsmith/logs/flash-sdb.log' };
      },
      verify: async () => ({ device: '/dev/sdb', ok: false, bytesChecked: 64e6, mismatches: [{ start: 4096, end: 8192 }], mismatchCount: 1, mismatchBytes: 4096 }),
    });
    await toCardStep(api);
    fireEvent.click(await screen.findByRole('radio', { name: /Generic SD reader/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    fireEvent.click(screen.getByRole('button', { name: 'Flash the card' }));
    await waitFor(() => expect(heading()).toBe('The card is ready'));
    expect(screen.getByText('It is safe to remove the card.')).toBeTruthy();
    expect(screen.getByText('Verified: the card matches the image.')).toBeTruthy();
    const flashCall = api.calls.find((c) => c.op === 'flash');
    expect(flashCall).toEqual({ op: 'flash', source: '/img/a.img', device: '/dev/sdb', verify: true, eject: true, board: 'orangepi-pc', settings: { cacheLimitBytes: 8 * 1024 ** 3 } });
    expect(screen.getByText('Log file: /home/me/.cache/cardsmith/logs/flash-sdb.log')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Open log' }));
    await waitFor(() => expect(api.shown).toEqual(['/home/me/.cache/cardsmith/logs/flash-sdb.log']));
    fireEvent.click(screen.getByRole('button', { name: 'Verify again' }));
    await waitFor(() => expect(heading()).toBe('Verify a card against an image'));
    expect(await screen.findByText('Bytes 4 KiB (0x1000) to 8 KiB (0x2000)')).toBeTruthy();
    expect(screen.getByText('The card differs from the image.')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('goes from launch to a verified card in five clicks with the defaults', async () => {
    const entry = { id: 'debian-12-orangepi-pc', name: 'Debian 12 minimal', description: '', kind: 'image' as const, boards: ['orangepi-pc'], url: 'https://example.org/d.img.xz', cached: true };
    const api = fakeApi({
      listBoards: async () => ({ boards: BOARDS }),
      catalog: async () => ({ entries: [entry], problems: [] }),
      inspect: async () => INSPECTION,
      listDrives: async () => ({ drives: [drive(), drive({ device: '/dev/sda', system: true, unsafeReasons: ['holds /'] })] }),
      flash: async (request) => ({ device: (request as { device: string }).device, bytesWritten: 64e6, verified: true }),
    });
    mountApp(api);
    let clicks = 0;
    const click = (element: HTMLElement): void => {
      clicks += 1;
      fireEvent.click(element);
    };
    click(await screen.findByRole('radio', { name: /Orange Pi PC/ }));
    click(screen.getByRole('button', { name: 'Next' }));
    await waitFor(() => expect((screen.getByRole('radio', { name: /Debian 12 minimal/ }) as HTMLInputElement).checked).toBe(true));
    click(screen.getByRole('button', { name: 'Next' }));
    await waitFor(() => expect((screen.getByRole('radio', { name: /Generic SD reader/ }) as HTMLInputElement).checked).toBe(true));
    click(screen.getByRole('button', { name: 'Next' }));
    click(screen.getByRole('button', { name: 'Flash the card' }));
    await waitFor(() => expect(heading()).toBe('The card is ready'));
    expect(screen.getByText('Verified: the card matches the image.')).toBeTruthy();
    expect(clicks).toBe(5);
    expect(api.calls.find((c) => c.op === 'flash')).toMatchObject({ source: 'debian-12-orangepi-pc', device: '/dev/sdb', verify: true });
  });

  it('speaks German when the system does', async () => {
    mountApp(fakeApi({ listBoards: async () => ({ boards: [] }) }), ['de-DE']);
    expect(heading()).toBe('Welches Board soll von der Karte starten?');
    expect(screen.getByRole('button', { name: 'Weiter' })).toBeTruthy();
  });
});
