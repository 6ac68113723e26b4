/**
 * `sudo cardsmith station …` (or pkexec): the station's own loop — scanning and watching drives,
 * slots, tally, reports — stays in this process, but what reads user or network data does not.
 * The source is fetched and hashed by `cardsmith fetch` started as the invoking user, and each
 * card's flash goes through run-on-cards (this process checks and opens the card, the job runs as
 * the user), exactly as `sudo cardsmith flash` does (as-user.ts). Its report files are written by
 * the user too.
 */
import { RequestSchema, ResultSchemas, type JobEvent, type ResultOf } from '../engine/api';
import { startUserJob } from '../engine/elevated/card-job';
import type { InvokingUser } from '../engine/elevated/invoking-user';
import { spawn } from 'node:child_process';
import { basename, dirname, join, resolve } from 'node:path';
import { cardJobEnvironment } from '../engine/elevated/invoking-user';
import { runOnCards } from '../engine/elevated/run-on-cards';
import { CardsmithError } from '../engine/errors';
import { renderReport } from '../engine/station/report';
import type { StationJobs } from '../engine/station/station';
import { explainPermission, jobEnvironment, withAbsolutePaths } from './as-user';

/**
 * Run by the user's Node: the report text on stdin goes to a new temporary file beside its name
 * (`wx`: a name the user planted is not followed), which then replaces the report.
 */
const WRITE_REPORT = [
  "const fs = require('node:fs');",
  'const [path, temporary] = process.argv.slice(1);',
  'const chunks = [];',
  "process.stdin.on('data', (chunk) => chunks.push(chunk)).on('end', () => {",
  "  fs.writeFileSync(temporary, Buffer.concat(chunks), { flag: 'wx' });",
  '  fs.renameSync(temporary, path);',
  '});',
].join('\n');

/** Writes a report file as `user`, so the root process creates no file. */
function writeReportAs(user: InvokingUser, path: string, text: string, env: NodeJS.ProcessEnv): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const child = spawn(process.execPath, ['-e', WRITE_REPORT, path, temporary], {
    uid: user.uid,
    gid: user.gid,
    cwd: '/',
    env: cardJobEnvironment(user, env),
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  child.stdin.on('error', () => undefined);
  child.stdin.end(text);
  return new Promise((done, fail) => {
    child.once('error', (error) => fail(new CardsmithError('internal', `Could not start the report writer: ${error.message}`, { path })));
    child.once('close', (code) => {
      if (code === 0) return done();
      const reason = /\b(E[A-Z]+)\b/.exec(stderr)?.[1] ?? `exit code ${code}`;
      const hint = `The report is written as ${user.name} (uid ${user.uid}), who ran sudo or pkexec: its folder must be writable by that user`;
      fail(new CardsmithError(reason === 'EACCES' || reason === 'EPERM' ? 'permission' : 'io', `Could not write the report ${path} (${reason})`, { path }, hint));
    });
  });
}

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
    writeReport: (path, rows) => writeReportAs(user, resolve(cwd, path), renderReport(path, rows), jobEnv),
  };
}
