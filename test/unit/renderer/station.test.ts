// @vitest-environment node
/**
 * The Station view's logic without React: which drives it takes (the engine's own rules: the
 * snapshot is never touched, unsafe and out-of-filter cards are listed with why, a card pulled
 * and put back is new), the report rows and their CSV, and the runner driving a scripted engine:
 * one `flash` request per new card (verify and eject on), a row per card, Stop lets cards finish.
 * The reader filter takes only cards under the chosen reader path, and the rows carry the
 * scanner's reader; a local image's sha256 comes from the engine's `fetch` at the start.
 * Also the several-cards choice on the Card step (flow.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobEvent, RequestInput } from '../../../electron/engine/api';
import { CSV_COLUMNS, toCsv } from '../../../electron/engine/station/report-text';
import { createClient } from '../../../renderer/src/client/cardsmith-client';
import * as flow from '../../../renderer/src/store/flow';
import {
  aggregateSpeed,
  cardEnded,
  cardEvents,
  cardStarted,
  IDLE_STATION,
  readersSeen,
  stationDrives,
  stationScanned,
  stationStarted,
  stationStopping,
  stationTally,
  type StationState,
} from '../../../renderer/src/store/station';
import { createStationRunner } from '../../../renderer/src/store/station-runner';
import { board, drive, fakeApi } from './samples';

const SYSTEM = drive({ device: '/dev/sda', description: 'System disk', system: true, unsafeReasons: ['system drive: holds /'] });
const OLD = drive({ device: '/dev/sdb', description: 'Old card' });
const SLOT0 = '/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/host6/target6:0:0/6:0:0:0';
const NEW = drive({ device: '/dev/sdc', description: 'New card', sizeBytes: 16e9, reader: { vendor: 'Generic', model: 'STORAGE DEVICE', serial: '000000000819', path: SLOT0 } });
const progress = (bytesDone: number): JobEvent => ({ type: 'progress', phase: 'write', bytesDone, bytesTotal: 1000, bytesPerSecond: 5e6, etaSeconds: 1 });

describe('station decisions', () => {
  it('never takes what was present at the start, and takes a card inserted later', () => {
    const started = stationStarted('/img/a.img', 'ab'.repeat(32), {}, [SYSTEM, OLD, drive({ device: '/dev/sdd', sizeBytes: 0 })]);
    expect(started.untouched.map((d) => d.device)).toEqual(['/dev/sda', '/dev/sdb']);
    expect(stationScanned(started, [SYSTEM, OLD]).take).toEqual([]);
    const { state, take } = stationScanned(started, [SYSTEM, OLD, NEW]);
    expect(take.map((d) => d.device)).toEqual(['/dev/sdc']);
    // Still there at the next scan: not new again.
    expect(stationScanned(state, [SYSTEM, OLD, NEW]).take).toEqual([]);
  });

  it('takes only cards whose reader path starts with the reader filter, as the CLI does', () => {
    const started = stationStarted('/img/a.img', '', { readerPath: '/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/' }, []);
    const otherPort = drive({ device: '/dev/sdd', reader: { vendor: null, model: null, serial: null, path: '/sys/devices/pci0000:00/0000:00:14.0/usb1/1-3/1-3:1.0' } });
    const noReader = drive({ device: '/dev/sde' });
    const { state, take } = stationScanned(started, [otherPort, noReader, NEW]);
    expect(take.map((d) => d.device)).toEqual(['/dev/sdc']);
    expect(state.skipped.map((s) => s.refusal)).toEqual([
      { kind: 'reader', readerPath: '/sys/devices/pci0000:00/0000:00:14.0/usb1/1-3/1-3:1.0', wanted: '/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/' },
      { kind: 'reader', readerPath: null, wanted: '/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/' },
    ]);
    expect(readersSeen([...stationDrives(state), ...take, NEW]).map((r) => r.path)).toEqual(['/sys/devices/pci0000:00/0000:00:14.0/usb1/1-3/1-3:1.0', SLOT0]);
  });

  it('lists a new unsafe or out-of-filter card with why instead of taking it', () => {
    const started = stationStarted('/img/a.img', '', { minBytes: 8e9, maxBytes: 64e9 }, [SYSTEM]);
    const small = drive({ device: '/dev/sdd', sizeBytes: 4e9 });
    const big = drive({ device: '/dev/sde', sizeBytes: 128e9 });
    const ro = drive({ device: '/dev/sdf', readOnly: true, unsafeReasons: ['read-only'] });
    const { state, take } = stationScanned(started, [SYSTEM, small, big, ro, NEW]);
    expect(take.map((d) => d.device)).toEqual(['/dev/sdc']);
    expect(state.skipped.map((s) => [s.drive.device, s.refusal.kind])).toEqual([
      ['/dev/sdd', 'below'],
      ['/dev/sde', 'above'],
      ['/dev/sdf', 'unsafe'],
    ]);
  });

  it('takes a card put back after it was pulled, but never a device whose job still runs', () => {
    let state = stationStarted('/img/a.img', '', {}, []);
    state = stationScanned(state, [NEW]).state;
    state = cardStarted(state, NEW, 'job-1');
    state = stationScanned(state, []).state; // pulled (the job will fail)
    expect(stationScanned(state, [NEW]).take).toEqual([]); // back while job-1 still runs
    state = cardEnded(state, 'job-1', { ok: false, error: { cause: 'device-gone', message: 'gone' } }, 0);
    state = stationScanned(state, []).state;
    expect(stationScanned(state, [NEW]).take.map((d) => d.device)).toEqual(['/dev/sdc']);
  });

  it('folds a batch of events per card, ends each with a report row, and tallies', () => {
    let state: StationState = stationStarted('/img/a.img', 'cd'.repeat(32), {}, []);
    state = cardStarted(cardStarted(state, NEW, 'a'), OLD, 'b');
    state = cardEvents(state, [
      { jobId: 'a', event: { type: 'phase', phase: 'write', state: 'start' } },
      { jobId: 'a', event: progress(400) },
      { jobId: 'b', event: { type: 'phase', phase: 'write', state: 'start' } },
      { jobId: 'b', event: progress(100) },
    ]);
    expect(state.cards.map((c) => [c.slot.state, c.slot.percent])).toEqual([
      ['writing', 40],
      ['writing', 10],
    ]);
    expect(aggregateSpeed(state.cards.map((c) => c.slot))).toBe(10e6);
    state = cardEnded(state, 'a', { ok: true, bytesWritten: 1000 }, Date.UTC(2026, 0, 2, 3, 4, 5));
    state = cardEnded(state, 'b', { ok: false, error: { cause: 'io', message: 'write failed at byte 4096' } }, Date.UTC(2026, 0, 2, 3, 4, 6));
    expect(stationTally(state)).toEqual({ running: 0, ok: 1, failed: 1 });
    expect(state.rows).toEqual([
      { time: '2026-01-02T03:04:05.000Z', device: '/dev/sdc', reader: { vendor: 'Generic', model: 'STORAGE DEVICE', serial: '000000000819', path: SLOT0 }, sizeBytes: 16e9, imageSha256: 'cd'.repeat(32), bytesWritten: 1000, result: 'ok', error: null },
      { time: '2026-01-02T03:04:06.000Z', device: '/dev/sdb', reader: { vendor: null, model: null, serial: null, path: null }, sizeBytes: 32e9, imageSha256: 'cd'.repeat(32), bytesWritten: 0, result: 'failed', error: 'write failed at byte 4096' },
    ]);
    const csv = toCsv(state.rows).split('\r\n');
    expect(csv[0]).toBe(CSV_COLUMNS.join(','));
    expect(csv[1]).toBe(`2026-01-02T03:04:05.000Z,/dev/sdc,Generic,STORAGE DEVICE,000000000819,${SLOT0},16000000000,${'cd'.repeat(32)},1000,ok,`);
    expect(csv[2]).toBe(`2026-01-02T03:04:06.000Z,/dev/sdb,,,,,32000000000,${'cd'.repeat(32)},0,failed,write failed at byte 4096`);
  });
});

describe('station runner against a scripted engine', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('snapshots, then flashes each new card in its own verified, ejected job; Stop lets the running card finish', async () => {
    let drives = [SYSTEM, OLD];
    const finishers: (() => void)[] = [];
    const api = fakeApi({
      fetch: async (request) => ({ path: (request as { source: string }).source, sha256: 'ab'.repeat(32), sizeBytes: 1000 }),
      listDrives: async () => ({ drives }),
      flash: (request, emit) =>
        new Promise((resolve) => {
          const { device } = request as { device: string };
          emit({ type: 'phase', phase: 'write', state: 'start' });
          emit(progress(500));
          finishers.push(() => resolve({ device, bytesWritten: 1000, verified: true }));
        }),
    });
    let state: StationState = IDLE_STATION;
    const runner = createStationRunner({ client: createClient(api), get: () => state, set: (next) => (state = next), now: () => 0 });
    await runner.start({ image: { kind: 'file', path: '/img/a.img' }, board: 'orangepi-pc', filter: {} });
    expect(state.status).toBe('watching');
    expect(state.untouched.map((d) => d.device)).toEqual(['/dev/sda', '/dev/sdb']);
    drives = [SYSTEM, OLD, NEW, drive({ device: '/dev/loop7', readerKind: 'loop' })];
    await vi.advanceTimersByTimeAsync(1000);
    const flashes = api.calls.filter((r): r is Extract<RequestInput, { op: 'flash' }> => r.op === 'flash');
    expect(flashes).toEqual([
      { op: 'flash', source: '/img/a.img', device: '/dev/sdc', verify: true, eject: true, board: 'orangepi-pc' },
      // A loop device (tests) has nothing to eject.
      { op: 'flash', source: '/img/a.img', device: '/dev/loop7', verify: true, eject: false, board: 'orangepi-pc' },
    ]);
    // A local file is flashed where it is; the engine hashed it once, for the report.
    expect(api.calls.filter((r) => r.op === 'fetch')).toEqual([{ op: 'fetch', source: '/img/a.img' }]);
    await vi.advanceTimersByTimeAsync(100);
    expect(state.cards.map((c) => [c.drive.device, c.slot.state, c.slot.percent])).toEqual([
      ['/dev/sdc', 'writing', 50],
      ['/dev/loop7', 'writing', 50],
    ]);
    finishers[0]?.();
    await vi.advanceTimersByTimeAsync(0);
    runner.stop();
    expect(state.status).toBe('stopping');
    drives = [...drives, drive({ device: '/dev/sdg' })];
    await vi.advanceTimersByTimeAsync(3000);
    expect(api.calls.filter((r) => r.op === 'flash')).toHaveLength(2); // stopped: no new card
    finishers[1]?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(state.status).toBe('stopped');
    expect(state.rows.map((r) => [r.device, r.result, r.imageSha256, r.reader.path])).toEqual([
      ['/dev/sdc', 'ok', 'ab'.repeat(32), SLOT0],
      ['/dev/loop7', 'ok', 'ab'.repeat(32), null],
    ]);
  });

  it('fetches a download once and reports its sha256; a failed fetch stops with the error', async () => {
    const api = fakeApi({
      fetch: async () => ({ path: '/cache/d.img.xz', sha256: 'ef'.repeat(32), sizeBytes: 10 }),
      listDrives: async () => ({ drives: [] }),
    });
    let state: StationState = IDLE_STATION;
    const runner = createStationRunner({ client: createClient(api), get: () => state, set: (next) => (state = next), now: () => 0 });
    await runner.start({ image: { kind: 'url', url: 'https://example.org/d.img.xz' }, board: undefined, filter: {} });
    expect(state).toMatchObject({ status: 'watching', source: '/cache/d.img.xz', imageSha256: 'ef'.repeat(32) });
    runner.stop();
    expect(stationStopping(state)).toBe(state);

    const failing = fakeApi({});
    let failed: StationState = IDLE_STATION;
    const other = createStationRunner({ client: createClient(failing), get: () => failed, set: (next) => (failed = next), now: () => 0 });
    await other.start({ image: { kind: 'url', url: 'https://example.org/d.img.xz' }, board: undefined, filter: {} });
    expect(failed.status).toBe('stopped');
    expect(failed.error?.message).toMatch(/fetch/);
  });

  it('cancels the download when stopped while it is being fetched, and takes no card', async () => {
    const api = fakeApi({
      fetch: () => new Promise(() => undefined),
      listDrives: async () => ({ drives: [NEW] }),
    });
    let state: StationState = IDLE_STATION;
    const runner = createStationRunner({ client: createClient(api), get: () => state, set: (next) => (state = next), now: () => 0 });
    void runner.start({ image: { kind: 'url', url: 'https://example.org/d.img.xz' }, board: undefined, filter: {} });
    await vi.advanceTimersByTimeAsync(0);
    expect(state.status).toBe('starting');
    runner.stop();
    expect(state.status).toBe('stopped');
    expect(api.cancelled).toHaveLength(1);
    expect(api.cancelled[0]).toMatch(/^station-fetch-/);
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.calls.map((r) => r.op)).toEqual(['fetch']);
  });
});

describe('several cards on the Card step', () => {
  const base: flow.FlowState = { ...flow.INITIAL_FLOW, board: { kind: 'board', board: board() }, image: { kind: 'file', path: '/img/a.img' }, imageChecked: true };

  it('keeps the first card as the drive, needs two for several, and drops pulled cards', () => {
    let state = flow.toggleCard(base, OLD);
    expect([state.drive?.device, state.cards.length, flow.isSeveral(state)]).toEqual(['/dev/sdb', 0, false]);
    state = flow.toggleCard(state, NEW);
    expect([state.drive?.device, state.cards.map((d) => d.device), flow.canEnter(state, 'flash')]).toEqual(['/dev/sdb', ['/dev/sdb', '/dev/sdc'], true]);
    expect(flow.keepPresentCards(state, new Set(['/dev/sdc']))).toMatchObject({ drive: NEW, cards: [] });
    expect(flow.chooseDrive(state, NEW).cards).toEqual([]);
  });

  it('refuses several cards for a build or a customised image, and for a drive that needs its name typed', () => {
    const two = flow.toggleCard(flow.toggleCard(base, OLD), NEW);
    const built = { ...two, image: { kind: 'rootfs' as const, rootfs: '/r.tar', rootSize: { mode: 'minimal' as const } } };
    expect([flow.severalBlock(built), flow.canEnter(built, 'flash')]).toEqual(['build', false]);
    const customised = flow.setCustomise(two, { hostname: 'pi' });
    expect([flow.severalBlock(customised), flow.canEnter(customised, 'flash')]).toEqual(['customise', false]);
    const large = flow.toggleCard(two, drive({ device: '/dev/sdh', sizeBytes: 256e9 }));
    expect(flow.canEnter(large, 'flash')).toBe(false);
  });
});
