/**
 * One job on cards, the elevated way: open the request's cards (every one checked before any is
 * touched, open-card.ts), run the card job on them as the invoking user (card-job.ts), close them,
 * eject the ones a flash wrote, and report exactly one terminal event. The GUI's privileged worker
 * (`cardsmith worker`) and the CLI run with sudo or pkexec (`sudo cardsmith flash …`) both go
 * through here, so whatever runs as root only checks, opens, hands over and ejects.
 */
import { cardsOf, ResultSchemas, type JobEvent, type Request } from '../api';
import { ejectCard } from '../drives/unmount';
import { toErrorInfo } from '../errors';
import { createJobContext } from '../job';
import { startCardJob } from './card-job';
import type { InvokingUser } from './invoking-user';
import { openCards, type OpenedCard } from './open-card';
import { cardMode } from './policy';

export interface CardRun {
  readonly user: InvokingUser;
  /** Aborting it stops the card job (a cancelled flash leaves the card's first MiB zeroed). */
  readonly signal: AbortSignal;
  /** The Cardsmith entry this process runs (the CLI bundle); the job runs the same one. */
  readonly entry: readonly string[];
  /** Where the job's own `CARDSMITH_*` settings come from (default: this process's environment). */
  readonly env?: NodeJS.ProcessEnv;
}

/** The cards to eject after a job that wrote them: a flash's card, or each card a flashMany wrote. */
function toEject(request: Request, ended: JobEvent, opened: readonly OpenedCard[]): string[] {
  if (ended.type !== 'result') return [];
  if (request.op === 'flash' && request.eject) return opened.map((card) => card.grant.device);
  if (request.op !== 'flashMany' || !request.eject) return [];
  const result = ResultSchemas.flashMany.safeParse(ended.result);
  if (!result.success) return [];
  // Outcomes are in the request's order, as the cards were opened.
  return opened.filter((_, index) => result.data.cards[index]?.ok === true).map((card) => card.grant.device);
}

/** Runs `request` on its cards as `run.user`; emits the job's events and then its end, which it also returns. */
export async function runOnCards(request: Request, run: CardRun, emit: (event: JobEvent) => void): Promise<JobEvent> {
  const ctx = createJobContext(emit, run.signal);
  let ended: JobEvent;
  let opened: OpenedCard[] = [];
  try {
    opened = await openCards(cardsOf(request), cardMode(request), { allowLoop: 'allowLoop' in request && request.allowLoop }, ctx);
    ctx.throwIfCancelled();
    const running = startCardJob({ request, grants: opened.map((card) => card.grant), fds: opened.map((card) => card.fd), user: run.user, entry: run.entry, env: run.env }, emit);
    const cancel = (): void => running.cancel();
    run.signal.addEventListener('abort', cancel, { once: true });
    try {
      ended = await running.ended;
    } finally {
      run.signal.removeEventListener('abort', cancel);
    }
  } catch (error) {
    ended = { type: 'error', error: toErrorInfo(error) };
  } finally {
    for (const card of opened) await card.close().catch((error: unknown) => ctx.log('warn', `closing ${card.grant.device} failed: ${(error as Error).message}`));
  }
  for (const device of toEject(request, ended, opened)) await ejectCard(device, ctx);
  emit(ended);
  return ended;
}
