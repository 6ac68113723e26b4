/**
 * Several cards: the store's `flashMany` job. One request writes the plain image to every chosen
 * card; events naming a card move that card's row (batched, see batch.ts), the others are the
 * job's own, and the result gives each card its outcome.
 */
import type { JobEvent } from '../../../electron/engine/api';
import type { ErrorInfo } from '../../../electron/engine/errors';
import type { CardsmithClient, Outcome } from '../client/cardsmith-client';
import type { Translator } from '../i18n/translate';
import type { AppData, AppState } from './app-store';
import { createBatcher } from './batch';
import * as flow from './flow';
import { startJob } from './job';
import { manyEvents, manyFailed, manyFinished, manyStarted } from './many';

export interface ManyJobDeps {
  readonly client: CardsmithClient;
  readonly get: () => AppState;
  readonly set: (update: Partial<AppData> | ((state: AppState) => Partial<AppData>)) => void;
  readonly now: () => number;
  readonly tr: Translator;
  readonly notify?: (title: string, body: string) => void;
  /** The one-card job's event handler: events that name no card go there. */
  readonly onJobEvent: (event: JobEvent) => void;
  /** Runs one engine job as part of the current UI job (the store's `step`). */
  readonly step: <T>(run: (jobId: string) => Promise<Outcome<T>>, prefix: string) => Promise<Outcome<T>>;
  readonly finish: (outcome: { ok: true } | { ok: false; error: ErrorInfo }) => void;
}

/** Returns the action that starts the flashMany job for the cards chosen in the flow. */
export function createManyJob(deps: ManyJobDeps): () => Promise<void> {
  const { client, get, set, now, tr } = deps;
  const cardBatch = createBatcher<JobEvent>((events) => set((s) => (s.many ? { many: manyEvents(s.many, events) } : {})));
  const onManyEvent = (event: JobEvent): void => {
    const card = event.type === 'phase' || event.type === 'progress' || event.type === 'log' ? event.card : undefined;
    if (card === undefined) return deps.onJobEvent(event);
    if (event.type === 'log') return deps.onJobEvent({ ...event, message: `${card}: ${event.message}` });
    cardBatch.push(event);
  };

  return async () => {
    const state = get();
    const source = state.flow.image ? flow.sourceOf(state.flow.image) : null;
    if (source === null) return;
    const board = flow.boardId(state.flow.board);
    const { verify, eject } = state.settings;
    const remote = state.flow.image?.kind !== 'file';
    set({ job: startJob('flash', remote ? ['fetch'] : [], now()), many: manyStarted(state.flow.cards), manyResult: null, flashResult: null, flow: { ...state.flow, screen: { kind: 'flow', step: 'flash' } } });
    const request = { op: 'flashMany', source, devices: state.flow.cards.map((d) => d.device), verify, eject, ...(board ? { board } : {}) } as const;
    const outcome = await deps.step((id) => client.run(request, onManyEvent, id), 'flash');
    cardBatch.flushNow();
    if (!outcome.ok) {
      set((s) => (s.many ? { many: manyFailed(s.many, outcome.error) } : {}));
      return deps.finish(outcome);
    }
    set((s) => ({ manyResult: outcome.value.cards, many: s.many ? manyFinished(s.many, outcome.value.cards) : null }));
    deps.finish({ ok: true });
    const ok = outcome.value.cards.filter((c) => c.ok).length;
    deps.notify?.(tr('notify.done'), tr('many.done.summary', { ok, total: outcome.value.cards.length }));
    set((s) => ({ flow: { ...s.flow, screen: { kind: 'flow', step: 'done' } } }));
  };
}
