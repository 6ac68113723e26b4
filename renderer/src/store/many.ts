/**
 * Several cards in one `flashMany` job, as the Flash and Done steps show them: a slot per card
 * (waiting, writing %, verifying, then done or failed) moved by the events that name their card,
 * and at the end each card's own outcome. Pure.
 */
import type { CardOutcome, JobEvent } from '../../../electron/engine/api';
import type { Drive } from '../../../electron/engine/drives/model';
import type { ErrorInfo } from '../../../electron/engine/errors';
import { advance, isFinished, newSlot, type Slot } from '../../../electron/engine/station/slots';
import { appError } from '../i18n/translate';

export interface ManyCard {
  readonly drive: Drive;
  readonly slot: Slot;
  readonly outcome: CardOutcome | null;
}

export function manyStarted(drives: readonly Drive[]): readonly ManyCard[] {
  return drives.map((drive) => ({ drive, slot: newSlot(drive.device), outcome: null }));
}

/** Folds card-tagged phase and progress events into their cards' slots (a batch in one update). */
export function manyEvents(cards: readonly ManyCard[], events: readonly JobEvent[]): readonly ManyCard[] {
  const slots = new Map(cards.map((c) => [c.drive.device, c.slot]));
  for (const event of events) {
    if ((event.type !== 'phase' && event.type !== 'progress') || event.card === undefined) continue;
    const slot = slots.get(event.card);
    if (slot) slots.set(event.card, advance(slot, event));
  }
  return cards.some((c) => slots.get(c.drive.device) !== c.slot) ? cards.map((c) => ({ ...c, slot: slots.get(c.drive.device) ?? c.slot })) : cards;
}

/** The job's result: each card done or failed by its own outcome (a card missing from it failed). */
export function manyFinished(cards: readonly ManyCard[], outcomes: readonly CardOutcome[]): readonly ManyCard[] {
  return cards.map((card) => {
    const outcome = outcomes.find((o) => o.device === card.drive.device) ?? null;
    const error: ErrorInfo = outcome?.error ?? appError('internal', 'error.app.noOutcome');
    const event: JobEvent = outcome?.ok ? { type: 'result', op: 'flashMany', result: { bytesWritten: outcome.bytesWritten } } : { type: 'error', error };
    return { ...card, slot: advance(card.slot, event), outcome };
  });
}

/** The whole job ended early (cancelled, refused): every card not finished shares its error. */
export function manyFailed(cards: readonly ManyCard[], error: ErrorInfo): readonly ManyCard[] {
  return cards.map((card) => (isFinished(card.slot) ? card : { ...card, slot: advance(card.slot, { type: 'error', error }) }));
}
