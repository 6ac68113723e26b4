/**
 * A station slot: one card's flash job seen as a person watching the table sees it — waiting,
 * writing %, verifying %, done or failed with the reason. Pure: the job's events in, the slot out.
 */
import type { JobEvent, StationEvent } from '../api';

export type SlotState = Extract<StationEvent, { kind: 'slot' }>['state'];

export interface Slot {
  readonly device: string;
  readonly state: SlotState;
  /** Whole percent of the current phase (write or verify), null before its size is known. */
  readonly percent: number | null;
  readonly bytesPerSecond: number | null;
  readonly error: string | null;
  readonly bytesWritten: number;
}

export function newSlot(device: string): Slot {
  return { device, state: 'waiting', percent: null, bytesPerSecond: null, error: null, bytesWritten: 0 };
}

export function isFinished(slot: Slot): boolean {
  return slot.state === 'done' || slot.state === 'failed';
}

function percentOf(done: number, total: number | null): number | null {
  return total === null || total === 0 ? null : Math.min(100, Math.floor((done / total) * 100));
}

/**
 * The slot after one event of its job. Returns the same object when nothing shown changed
 * (progress within the same whole percent, log lines), so callers print only real changes.
 * A finished slot never changes again.
 */
export function advance(slot: Slot, event: JobEvent): Slot {
  if (isFinished(slot)) return slot;
  switch (event.type) {
    case 'phase':
      if (event.state !== 'start') return slot;
      if (event.phase === 'write' && slot.state === 'waiting') return { ...slot, state: 'writing', percent: 0 };
      if (event.phase === 'verify') return { ...slot, state: 'verifying', percent: 0, bytesPerSecond: null };
      return slot;
    case 'progress': {
      const state = event.phase === 'verify' ? 'verifying' : event.phase === 'write' ? 'writing' : null;
      if (state === null) return slot;
      const percent = percentOf(event.bytesDone, event.bytesTotal);
      if (state === slot.state && percent === slot.percent) return slot;
      return { ...slot, state, percent, bytesPerSecond: event.bytesPerSecond };
    }
    case 'result': {
      const written = (event.result as { bytesWritten?: unknown }).bytesWritten;
      return { ...slot, state: 'done', percent: 100, bytesPerSecond: null, bytesWritten: typeof written === 'number' ? written : slot.bytesWritten };
    }
    case 'error':
      return { ...slot, state: 'failed', bytesPerSecond: null, error: event.error.message };
    default:
      return slot;
  }
}

export interface Tally {
  readonly running: number;
  readonly ok: number;
  readonly failed: number;
}

export function tally(slots: Iterable<Slot>): Tally {
  let running = 0;
  let ok = 0;
  let failed = 0;
  for (const slot of slots) {
    if (slot.state === 'done') ok++;
    else if (slot.state === 'failed') failed++;
    else running++;
  }
  return { running, ok, failed };
}

export function slotEvent(slot: Slot): StationEvent {
  return { type: 'station', kind: 'slot', device: slot.device, state: slot.state, percent: slot.percent, bytesPerSecond: slot.bytesPerSecond, error: slot.error };
}
