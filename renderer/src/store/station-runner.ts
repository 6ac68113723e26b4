/**
 * Runs the Station view: resolves the image once (and its sha256), snapshots the drives present, then scans about
 * every second and gives each new card that passes the rules its own `flash` job (verify on,
 * eject on), several at once. Job events reach the store in batches (batch.ts), so many cards
 * reporting at once keep the window responsive. Decisions are station.ts's; this only sequences.
 */
import type { JobEvent } from '../../../electron/engine/api';
import type { Drive } from '../../../electron/engine/drives/model';
import type { StationFilter } from '../../../electron/engine/station/rules';
import type { CardsmithClient } from '../client/cardsmith-client';
import { BATCH_MS, createBatcher, type Timers } from './batch';
import { appError } from '../i18n/translate';
import { sourceOf, type ImageChoice } from './flow';
import { cardEnded, cardEvents, cardStarted, IDLE_STATION, stationScanned, stationStarted, stationStopping, type StationState } from './station';

export const STATION_SCAN_MS = 1000;

export interface StationRunnerDeps {
  readonly client: CardsmithClient;
  get(): StationState;
  set(state: StationState): void;
  readonly now: () => number;
  readonly scanMs?: number;
  readonly batchMs?: number;
  readonly timers?: Timers & { setInterval(callback: () => void, ms: number): unknown; clearInterval(handle: unknown): void };
}

export interface StationStart {
  readonly image: ImageChoice;
  readonly board: string | undefined;
  readonly filter: StationFilter;
}

export interface StationRunner {
  start(options: StationStart): Promise<void>;
  stop(): void;
}

const REAL_TIMERS = {
  setTimeout: (callback: () => void, ms: number): unknown => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle: unknown): void => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
  setInterval: (callback: () => void, ms: number): unknown => globalThis.setInterval(callback, ms),
  clearInterval: (handle: unknown): void => globalThis.clearInterval(handle as ReturnType<typeof setInterval>),
};

export function createStationRunner(deps: StationRunnerDeps): StationRunner {
  const { client } = deps;
  const timers = deps.timers ?? REAL_TIMERS;
  const batch = createBatcher<{ jobId: string; event: JobEvent }>((items) => deps.set(cardEvents(deps.get(), items)), deps.batchMs ?? BATCH_MS, timers);
  let interval: unknown = null;
  let scanning = false;
  /** The source being resolved at start (a download, or a local file being hashed), cancelled by Stop. */
  let fetching: string | null = null;

  const listDrives = async (): Promise<readonly Drive[] | null> => {
    const outcome = await client.run({ op: 'listDrives', all: true });
    return outcome.ok ? outcome.value.drives : null;
  };

  const flashCard = (source: string, board: string | undefined, drive: Drive): void => {
    const jobId = client.newJobId('station');
    deps.set(cardStarted(deps.get(), drive, jobId));
    // A loop device (tests) has nothing to eject; a real reader's card is ejected so it can be pulled.
    const request = { op: 'flash', source, device: drive.device, verify: true, eject: drive.readerKind !== 'loop', ...(board ? { board } : {}) } as const;
    void client.run(request, (event) => batch.push({ jobId, event }), jobId).then((outcome) => {
      batch.flushNow();
      deps.set(cardEnded(deps.get(), jobId, outcome.ok ? { ok: true, bytesWritten: outcome.value.bytesWritten } : outcome, deps.now()));
    });
  };

  const scan = async (source: string, board: string | undefined): Promise<void> => {
    if (scanning) return;
    scanning = true;
    try {
      const drives = await listDrives();
      if (drives === null) return;
      const { state, take } = stationScanned(deps.get(), drives);
      deps.set(state);
      for (const drive of take) flashCard(source, board, drive);
    } finally {
      scanning = false;
    }
  };

  return {
    async start({ image, board, filter }) {
      const status = deps.get().status;
      if (status === 'starting' || status === 'watching' || status === 'stopping') return;
      deps.set({ ...IDLE_STATION, status: 'starting', filter });
      const source = sourceOf(image);
      if (source === null || image.kind === 'rootfs') {
        deps.set({ ...IDLE_STATION, status: 'stopped', error: appError('bad-input', 'error.app.stationImage') });
        return;
      }
      // The engine resolves the source once (`fetch`): a download into the cache, a local file hashed
      // where it is. Every card is flashed from that file, and the report names its sha256.
      fetching = client.newJobId('station-fetch');
      const fetched = await client.run({ op: 'fetch', source }, undefined, fetching);
      fetching = null;
      if (deps.get().status !== 'starting') return; // stopped while fetching
      if (!fetched.ok) return deps.set({ ...IDLE_STATION, status: 'stopped', error: fetched.error });
      const { path, sha256 } = fetched.value;
      const drives = await client.run({ op: 'listDrives', all: true });
      if (!drives.ok) return deps.set({ ...IDLE_STATION, status: 'stopped', error: drives.error });
      if (deps.get().status !== 'starting') return;
      deps.set(stationStarted(path, sha256, filter, drives.value.drives));
      interval = timers.setInterval(() => void scan(path, board), deps.scanMs ?? STATION_SCAN_MS);
    },
    stop() {
      if (interval !== null) timers.clearInterval(interval);
      interval = null;
      if (fetching !== null) void client.cancel(fetching);
      deps.set(stationStopping(deps.get()));
    },
  };
}
