/**
 * The elevated part hands an open card to a card job: `cardsmith card-job`, started with the
 * invoking user's uid and gid, a clean environment, `/` as its folder, and the card as
 * descriptor 3 (the cards of a flashMany as 3, 4, … in the request's order). The job does all the work a user may do (fetch, decode, build, write, verify,
 * logs) and reports contract events as NDJSON on its stdout. This side only relays those
 * events — each line bounded, each checked against the contract — and reports one terminal
 * event when the job has ended, whatever the job did.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { EventSchema, type CardGrant, type JobEvent, type Request } from '../api';
import type { ErrorInfo } from '../errors';
import { createLineSplitter } from '../ndjson';
import { cardJobEnvironment, type InvokingUser } from './invoking-user';

export interface CardJobStart {
  readonly request: Request;
  /** One per card of the request, in its order; grant i is descriptor 3 + i in the job. */
  readonly grants: readonly CardGrant[];
  /** The open cards in this process, in the same order. */
  readonly fds: readonly number[];
  readonly user: InvokingUser;
  /** The Cardsmith entry this process runs (the CLI bundle); the job runs the same one. */
  readonly entry: readonly string[];
  /** Where the job's `CARDSMITH_*` settings come from (default: this process's environment). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface RunningCardJob {
  /** Asks the job to stop (it zeroes the card's first MiB if it was writing). */
  cancel(): void;
  /** Resolves with the job's terminal event (result or error) once it has exited. */
  readonly ended: Promise<JobEvent>;
}

function failure(message: string, details?: Record<string, unknown>): JobEvent {
  const error: ErrorInfo = { cause: 'internal', message, ...(details ? { details } : {}) };
  return { type: 'error', error };
}

/** A Cardsmith command run as the invoking user, its contract events relayed from its stdout. */
export interface UserJobStart {
  /** The command and its arguments after the entry (`card-job`, or `fetch --json -- <source>`). */
  readonly args: readonly string[];
  /** Written to the job's stdin, which is then closed. */
  readonly input: string;
  /** Descriptors handed to the job as 3, 4, … */
  readonly fds: readonly number[];
  readonly user: InvokingUser;
  readonly entry: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

export function startCardJob(start: CardJobStart, onEvent: (event: JobEvent) => void): RunningCardJob {
  const input = `${JSON.stringify({ request: start.request, grants: start.grants })}\n`;
  return startUserJob({ args: ['card-job'], input, fds: start.fds, user: start.user, entry: start.entry, env: start.env }, onEvent);
}

export function startUserJob(start: UserJobStart, onEvent: (event: JobEvent) => void): RunningCardJob {
  const child = spawn(process.execPath, [...start.entry, ...start.args], {
    uid: start.user.uid,
    gid: start.user.gid,
    cwd: '/',
    env: cardJobEnvironment(start.user, start.env),
    stdio: ['pipe', 'pipe', 'inherit', ...start.fds],
  });
  let terminal: JobEvent | null = null;
  let problem: JobEvent | null = null;
  const stop = (why: JobEvent): void => {
    problem ??= why;
    child.kill('SIGTERM');
  };
  const splitter = createLineSplitter({
    onTooLong: (limit) => stop(failure(`The card job sent a message longer than ${limit} bytes; it was stopped`)),
  });
  const receive = (line: string): void => {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return stop(failure('The card job sent a line that is not JSON; it was stopped'));
    }
    const parsed = EventSchema.safeParse(json);
    if (!parsed.success) return stop(failure('The card job sent an event outside the contract; it was stopped'));
    const event = parsed.data;
    if (event.type === 'result' || event.type === 'error') terminal ??= event;
    else if (terminal === null) onEvent(event);
  };
  const [stdin, stdout] = [child.stdin as Writable, child.stdout as Readable];
  stdout.setEncoding('utf8');
  stdout.on('data', (chunk: string) => {
    for (const line of splitter.push(chunk)) receive(line);
  });
  stdin.on('error', () => undefined);
  stdin.end(start.input);
  const ended = new Promise<JobEvent>((resolve) => {
    let spawnError: Error | null = null;
    child.once('error', (error) => (spawnError = error));
    child.once('close', (code, signal) => {
      for (const line of splitter.end()) receive(line);
      if (spawnError) return resolve(failure(`Could not start the card job: ${spawnError.message}`));
      resolve(problem ?? terminal ?? failure(`The card job ended without a result (${signal ? `signal ${signal}` : `exit code ${code}`})`, { code, signal }));
    });
  });
  return { cancel: () => child.kill('SIGTERM'), ended };
}
