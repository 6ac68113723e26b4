/**
 * The flashing station: watches for cards inserted while it runs and gives each its own
 * ordinary `flash` job (write, verify, loader), several at once. Drives present at start are
 * never touched; each new one must pass the scanner's safety rules and the size filter. The
 * source is resolved once (a URL or catalog id fetched into the cache) and every card is
 * flashed from that one file. One card's failure ends that card only.
 */
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { JobEvent, RequestInput, ResultOf, StationEvent, StationRow } from '../api';
import type { Drive } from '../drives/model';
import { scanDrives } from '../drives/scan';
import { CardsmithError, type ErrorInfo } from '../errors';
import { message } from '../messages';
import { runRequest } from '../operations';
import { arrivals, readerOf, refusal, type StationFilter } from './filter';
import { renderReport } from './report';
import { advance, newSlot, slotEvent, tally, type Slot } from './slots';

export interface StationOptions {
  readonly source: string;
  readonly board?: string;
  /** Stop once this many cards are done (ok or failed); without it, run until cancelled. */
  readonly count?: number;
  /** Report files (each .csv or .json), written atomically when the station stops. */
  readonly reports: readonly string[];
  readonly filter: StationFilter;
  readonly allowLoop: boolean;
  readonly intervalMs?: number;
  /** Who runs the fetch and each card's flash (default: this process; under sudo, the user). */
  readonly jobs?: StationJobs;
}

type RequestOf<O extends RequestInput['op']> = Extract<RequestInput, { op: O }>;

/** Runs one request, emitting its events (the last one its result or error). */
export interface StationJobs {
  fetch(request: RequestOf<'fetch'>, emit: (event: JobEvent) => void, signal: AbortSignal): Promise<ResultOf<'fetch'> | undefined>;
  flash(request: RequestOf<'flash'>, emit: (event: JobEvent) => void, signal: AbortSignal): Promise<unknown>;
  /** Writes one report file (all of it or nothing under its name). */
  writeReport(path: string, rows: readonly StationRow[]): Promise<void>;
}

const inProcess: StationJobs = {
  fetch: (request, emit, signal) => runRequest<'fetch'>(request, emit, signal),
  flash: (request, emit, signal) => runRequest<'flash'>(request, emit, signal),
  writeReport: async (path, rows) => writeReportAtomically(path, rows),
};

/**
 * The file every card is flashed from and its sha256, from the `fetch` operation (the app's
 * Station asks it the same): a local image is hashed where it is, anything else fetched once.
 */
async function resolveSource(source: string, jobs: StationJobs, signal: AbortSignal): Promise<{ path: string; sha256: string }> {
  let failure: ErrorInfo | undefined;
  const fetched = await jobs.fetch(
    { op: 'fetch', source: existsSync(source) ? resolve(source) : source },
    (event) => {
      if (event.type === 'error') failure = event.error;
    },
    signal,
  );
  if (!fetched) {
    throw failure
      ? CardsmithError.fromInfo({ ...failure, cause: failure.cause === 'permission' ? 'permission' : 'bad-input' }, undefined, { notes: [message('station.fetchFailed', { source })] })
      : CardsmithError.keyed('bad-input', 'station.fetchNoResult', { source });
  }
  return { path: fetched.path, sha256: fetched.sha256 };
}

/** Writes the report beside its final name and renames it into place, so a reader never sees half of it. */
export function writeReportAtomically(path: string, rows: readonly StationRow[]): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(temporary, renderReport(path, rows));
  renameSync(temporary, path);
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export async function runStation(options: StationOptions, emit: (event: StationEvent) => void, signal: AbortSignal): Promise<StationRow[]> {
  for (const report of options.reports) renderReport(report, []); // a bad report name fails before any card
  const run = options.jobs ?? inProcess;
  const image = await resolveSource(options.source, run, signal);
  const scan = (): Promise<Drive[]> => scanDrives({ all: true, allowLoop: options.allowLoop, sourcePath: image.path });
  let occupied = arrivals(new Set(), await scan()).occupied;
  emit({ type: 'station', kind: 'start', source: image.path, imageSha256: image.sha256, untouched: [...occupied] });

  const slots: Slot[] = []; // one per card, in arrival order (a reader can see several cards)
  const busy = new Set<string>();
  const jobs = new Set<Promise<void>>();
  const rows: StationRow[] = [];
  let started = 0;
  const full = (): boolean => options.count !== undefined && started >= options.count;

  const flashCard = async (drive: Drive): Promise<void> => {
    const index = slots.push(newSlot(drive.device)) - 1;
    emit(slotEvent(slots[index] as Slot));
    const onEvent = (event: JobEvent): void => {
      const slot = slots[index] as Slot;
      const next = advance(slot, event);
      if (next === slot) return;
      slots[index] = next;
      emit(slotEvent(next));
    };
    await run.flash(
      // A loop device has nothing to eject; a real reader's card is ejected so it can be pulled.
      { op: 'flash', source: image.path, device: drive.device, board: options.board, verify: true, eject: drive.readerKind !== 'loop', allowLoop: options.allowLoop },
      onEvent,
      signal,
    );
    const slot = slots[index] as Slot;
    rows.push({
      time: new Date().toISOString(),
      device: drive.device,
      reader: readerOf(drive),
      sizeBytes: drive.sizeBytes,
      imageSha256: image.sha256,
      bytesWritten: slot.bytesWritten,
      result: slot.state === 'done' ? 'ok' : 'failed',
      error: slot.state === 'done' ? null : (slot.error ?? 'the job ended without a result'),
    });
    emit({ type: 'station', kind: 'tally', ...tally(slots) });
  };

  while (!signal.aborted && !full()) {
    await sleep(options.intervalMs ?? 1000, signal);
    if (signal.aborted) break;
    const next = arrivals(occupied, await scan());
    occupied = next.occupied;
    for (const drive of next.arrived) {
      if (busy.has(drive.device)) continue;
      const reason = full() ? `the station already has its ${options.count} cards` : refusal(drive, options.filter);
      if (reason !== null) {
        emit({ type: 'station', kind: 'skip', device: drive.device, reason });
        continue;
      }
      started++;
      busy.add(drive.device);
      const job = flashCard(drive).finally(() => {
        busy.delete(drive.device);
        jobs.delete(job);
      });
      jobs.add(job);
    }
  }
  while (jobs.size > 0) await Promise.all([...jobs]);
  for (const report of options.reports) await run.writeReport(report, rows);
  emit({ type: 'station', kind: 'end', rows, reports: [...options.reports] });
  return rows;
}
