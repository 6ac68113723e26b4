/**
 * `sudo cardsmith station …` (or pkexec): the station's own loop — scanning and watching drives,
 * slots, tally, reports — stays in this process, but what reads user or network data does not.
 * The source is fetched and hashed by `cardsmith fetch` started as the invoking user, and each
 * card's flash goes through run-on-cards (this process checks and opens the card, the job runs as
 * the user), exactly as `sudo cardsmith flash` does (as-user.ts).
 */
import { RequestSchema, ResultSchemas, type JobEvent, type ResultOf } from '../engine/api';
import { startUserJob } from '../engine/elevated/card-job';
import type { InvokingUser } from '../engine/elevated/invoking-user';
import { runOnCards } from '../engine/elevated/run-on-cards';
import type { StationJobs } from '../engine/station/station';
import { explainPermission, jobEnvironment, withAbsolutePaths } from './as-user';

export function stationJobsAs(user: InvokingUser, cwd: string, env: NodeJS.ProcessEnv = process.env): StationJobs {
  const entry = process.argv.slice(1, 2);
  const jobEnv = jobEnvironment(env, cwd);
  const relay =
    (emit: (event: JobEvent) => void) =>
    (event: JobEvent): void =>
      emit(event.type === 'error' ? { ...event, error: explainPermission(event.error, user) } : event);
  return {
    async fetch(input, emit, signal): Promise<ResultOf<'fetch'> | undefined> {
      const request = withAbsolutePaths(RequestSchema.parse(input), cwd);
      if (request.op !== 'fetch') return undefined;
      const args = ['fetch', '--json', ...(request.output === undefined ? [] : ['--output', request.output]), '--', request.source];
      const running = startUserJob({ args, input: '', fds: [], user, entry, env: jobEnv }, relay(emit));
      const cancel = (): void => running.cancel();
      signal.addEventListener('abort', cancel, { once: true });
      const ended = await running.ended.finally(() => signal.removeEventListener('abort', cancel));
      const result = ended.type === 'result' ? ResultSchemas.fetch.safeParse(ended.result) : undefined;
      if (result?.success) {
        emit(ended);
        return result.data;
      }
      relay(emit)(ended.type === 'error' ? ended : { type: 'error', error: { cause: 'internal', message: 'The fetch job sent a result outside the contract' } });
      return undefined;
    },
    async flash(input, emit, signal): Promise<unknown> {
      const request = withAbsolutePaths(RequestSchema.parse(input), cwd);
      return runOnCards(request, { user, signal, entry, env: jobEnv }, relay(emit));
    },
  };
}
