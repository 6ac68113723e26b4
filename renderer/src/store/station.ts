/**
 * The Station view as data: the drives present when it started (never touched), the cards it
 * took since (one `flash` job each, a slot per card: waiting, writing %, verifying, done, failed),
 * the new drives it refused and why, and the batch report's rows. Pure: the same arrival and
 * refusal rules and the same slot machine as `cardsmith station` (electron/engine/station/).
 */
import type { JobEvent, StationRow } from '../../../electron/engine/api';
import type { Drive, DriveReader } from '../../../electron/engine/drives/model';
import type { ErrorInfo } from '../../../electron/engine/errors';
import { arrivals, hasMedia, readerOf, refusalOf, type Refusal, type StationFilter } from '../../../electron/engine/station/rules';
import { advance, isFinished, newSlot, tally, type Slot, type Tally } from '../../../electron/engine/station/slots';

export type StationStatus = 'idle' | 'starting' | 'watching' | 'stopping' | 'stopped';

export interface StationCard {
  readonly jobId: string;
  readonly drive: Drive;
  readonly slot: Slot;
  readonly error: ErrorInfo | null;
}

export interface StationSkip {
  readonly drive: Drive;
  readonly refusal: Refusal;
}

export interface StationState {
  readonly status: StationStatus;
  /** The file every card is flashed from (a download resolved once into the cache). */
  readonly source: string | null;
  /** Its sha256, as the engine's `fetch` gave it at the start. */
  readonly imageSha256: string;
  readonly filter: StationFilter;
  /** Drives with media when the station started: never written. */
  readonly untouched: readonly Drive[];
  readonly occupied: readonly string[];
  readonly skipped: readonly StationSkip[];
  readonly cards: readonly StationCard[];
  readonly rows: readonly StationRow[];
  readonly error: ErrorInfo | null;
}

export const IDLE_STATION: StationState = { status: 'idle', source: null, imageSha256: '', filter: {}, untouched: [], occupied: [], skipped: [], cards: [], rows: [], error: null };

export function stationStarted(source: string, imageSha256: string, filter: StationFilter, drives: readonly Drive[]): StationState {
  const untouched = drives.filter(hasMedia);
  return { ...IDLE_STATION, status: 'watching', source, imageSha256, filter, untouched, occupied: untouched.map((d) => d.device) };
}

/** A new scan: the new drives it must take, and the state with the refused ones listed with why. */
export function stationScanned(state: StationState, drives: readonly Drive[]): { state: StationState; take: readonly Drive[] } {
  if (state.status !== 'watching') return { state, take: [] };
  const next = arrivals(new Set(state.occupied), drives);
  const busy = new Set(state.cards.filter((c) => !isFinished(c.slot)).map((c) => c.drive.device));
  const take: Drive[] = [];
  let skipped = state.skipped;
  for (const drive of next.arrived) {
    if (busy.has(drive.device)) continue;
    const refusal = refusalOf(drive, state.filter);
    if (refusal) skipped = [...skipped.filter((s) => s.drive.device !== drive.device), { drive, refusal }];
    else take.push(drive);
  }
  return { state: { ...state, occupied: [...next.occupied], skipped }, take };
}

export function cardStarted(state: StationState, drive: Drive, jobId: string): StationState {
  return { ...state, cards: [...state.cards, { jobId, drive, slot: newSlot(drive.device), error: null }] };
}

/** Folds a batch of job events (each tagged with its job) into the cards' slots in one update. */
export function cardEvents(state: StationState, batch: readonly { readonly jobId: string; readonly event: JobEvent }[]): StationState {
  const slots = new Map(state.cards.map((c) => [c.jobId, c.slot]));
  for (const { jobId, event } of batch) {
    const slot = slots.get(jobId);
    if (slot) slots.set(jobId, advance(slot, event));
  }
  let changed = false;
  const cards = state.cards.map((card) => {
    const slot = slots.get(card.jobId) ?? card.slot;
    if (slot === card.slot) return card;
    changed = true;
    return { ...card, slot };
  });
  return changed ? { ...state, cards } : state;
}

export type CardOutcome = { readonly ok: true; readonly bytesWritten: number } | { readonly ok: false; readonly error: ErrorInfo };

/** A card's job ended: its slot is final and the report gains its row. */
export function cardEnded(state: StationState, jobId: string, outcome: CardOutcome, now: number): StationState {
  const card = state.cards.find((c) => c.jobId === jobId);
  if (!card) return state;
  const event: JobEvent = outcome.ok ? { type: 'result', op: 'flash', result: { bytesWritten: outcome.bytesWritten } } : { type: 'error', error: outcome.error };
  const slot = advance(card.slot, event);
  const row: StationRow = {
    time: new Date(now).toISOString(),
    device: card.drive.device,
    reader: readerOf(card.drive),
    sizeBytes: card.drive.sizeBytes,
    imageSha256: state.imageSha256,
    bytesWritten: slot.bytesWritten,
    result: slot.state === 'done' ? 'ok' : 'failed',
    error: slot.state === 'done' ? null : (slot.error ?? 'the job ended without a result'),
  };
  const cards = state.cards.map((c) => (c.jobId === jobId ? { ...c, slot, error: outcome.ok ? null : outcome.error } : c));
  const running = cards.some((c) => !isFinished(c.slot));
  const status = state.status === 'stopping' && !running ? 'stopped' : state.status;
  return { ...state, status, cards, rows: [...state.rows, row] };
}

/** Whether the station is taking cards or finishing them (the flow must then not write any). */
export function isActive(state: StationState): boolean {
  return state.status === 'starting' || state.status === 'watching' || state.status === 'stopping';
}

/** Stop taking cards; the running ones finish (a card half-written is worse than a late stop). */
export function stationStopping(state: StationState): StationState {
  if (state.status !== 'watching' && state.status !== 'starting') return state;
  return { ...state, status: state.cards.some((c) => !isFinished(c.slot)) ? 'stopping' : 'stopped' };
}

export function stationTally(state: StationState): Tally {
  return tally(state.cards.map((c) => c.slot));
}

/** Bytes per second of every card being written or verified now, summed. */
export function aggregateSpeed(slots: Iterable<Slot>): number {
  let sum = 0;
  for (const slot of slots) if (!isFinished(slot)) sum += slot.bytesPerSecond ?? 0;
  return sum;
}

/** The readers these drives sit in (each port path once, in the order seen): the choices of the reader filter. */
export function readersSeen(drives: Iterable<Drive>): (DriveReader & { readonly path: string })[] {
  const seen = new Map<string, DriveReader & { readonly path: string }>();
  for (const drive of drives) {
    const reader = readerOf(drive);
    if (reader.path !== null && !seen.has(reader.path)) seen.set(reader.path, { ...reader, path: reader.path });
  }
  return [...seen.values()];
}

/** Every drive the station has seen: present at the start, taken, refused. */
export function stationDrives(state: StationState): Drive[] {
  return [...state.untouched, ...state.cards.map((c) => c.drive), ...state.skipped.map((s) => s.drive)];
}
