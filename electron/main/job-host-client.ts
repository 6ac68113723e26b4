/**
 * The main process's side of the job host (job-host.ts): forks it on the first unprivileged job
 * (Electron's `utilityProcess.fork` in the app, `child_process.fork` in tests), speaks the
 * envelope protocol with it (envelope-jobs.ts validates every message), forwards cancels, and
 * when the host dies ends its running jobs with an error and forks a new one for the next job.
 */
import type { JobEvent, Op, RequestInput, ResultOf } from '../engine/api';
import type { ErrorInfo } from '../engine/errors';
import { EnvelopeJobs } from './envelope-jobs';

/** What `fork` returns: the shape Electron's UtilityProcess has (a Node child is adapted to it). */
export interface HostProcess {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number | null) => void): unknown;
  kill(): boolean;
}

interface Host {
  readonly process: HostProcess;
  readonly jobs: EnvelopeJobs;
  readonly exited: Promise<void>;
}

const hostGone = (code: number | null): ErrorInfo => ({
  cause: 'internal',
  message: `The app's job process stopped (exit code ${code ?? 'none'}) before the job finished`,
  hint: 'Start the job again (a new job process is started for it); if it keeps happening, attach the log to a report.',
  details: { exitCode: code },
});

export class JobHostClient {
  private host: Host | null = null;

  constructor(
    private readonly fork: () => HostProcess,
    private readonly onProblem?: (problem: string) => void,
  ) {}

  /** Runs `request` as `job` in the host (started now if none is running); see EnvelopeJobs.run. */
  run<O extends Op>(job: string, request: Extract<RequestInput, { op: O }>, onEvent: (event: JobEvent) => void): Promise<ResultOf<O> | undefined> {
    return this.live().jobs.run(job, request, onEvent);
  }

  cancel(job: string): void {
    this.host?.jobs.cancel(job);
  }

  get running(): boolean {
    return this.host !== null;
  }

  /** Cancels the host's jobs, lets them end and the host exit; resolves once it has. */
  async shutdown(): Promise<void> {
    const host = this.host;
    if (!host) return;
    for (const job of host.jobs.jobIds()) host.jobs.cancel(job);
    this.post(host.process, { cmd: 'shutdown' });
    await host.exited;
  }

  private live(): Host {
    if (this.host) return this.host;
    const child = this.fork();
    const jobs = new EnvelopeJobs({ peer: "the app's job process", send: (command) => this.post(child, command), onProblem: this.onProblem });
    child.on('message', (message) => jobs.receive(message, () => (JSON.stringify(message) ?? String(message)).slice(0, 200)));
    const exited = new Promise<void>((resolve) => {
      child.on('exit', (code) => {
        if (this.host?.process === child) this.host = null;
        jobs.failAll(hostGone(code));
        resolve();
      });
    });
    this.host = { process: child, jobs, exited };
    return this.host;
  }

  /** A message to a host that has just died is lost; its exit ends the job. */
  private post(child: HostProcess, message: unknown): void {
    try {
      child.postMessage(message);
    } catch (error) {
      this.onProblem?.(`a message to the job process was lost: ${(error as Error).message}`);
    }
  }
}
