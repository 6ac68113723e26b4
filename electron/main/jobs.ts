/**
 * Where a job runs. Unprivileged operations (boards, drives, inspect,
 * build, planBuild, fetch, catalog…) go to the job host, a process of their own, so a long
 * synchronous stretch never freezes the window; operations that write or read a device
 * (needsPrivilege) go to the elevated worker — which, where it cannot hand the card to a job of
 * the user's (Windows), serves its bytes instead, and then the job runs here, in main, against the
 * served card (served-jobs.ts). Either way the job's events reach `emit` ending
 * with exactly one `result` or `error`, and `cancel(job)` reaches whichever side runs it.
 */
import { needsPrivilege, type JobEvent, type Request } from '../engine/api';
import { toErrorInfo } from '../engine/errors';
import { refuseSourceOnCard } from '../engine/flash/card';

/** A process that runs jobs by the envelope protocol (the privileged worker, the job host). */
export interface JobRunner {
  run(job: string, request: Request, onEvent: (event: JobEvent) => void): Promise<unknown>;
  cancel(job: string): void;
}

export type PrivilegedWorker = JobRunner;

export interface JobRouterOptions {
  /** Starts (or reuses) the elevated worker; rejects with a CardsmithError when elevation fails. */
  readonly privilegedWorker: () => Promise<PrivilegedWorker>;
  /** Runs the unprivileged jobs (job-host-client.ts); it starts its process when needed. */
  readonly jobHost: JobRunner;
}

type Running = { readonly where: 'host' } | { readonly where: 'worker'; cancelled: boolean; worker?: PrivilegedWorker };

export class JobRouter {
  private readonly running = new Map<string, Running>();

  constructor(private readonly options: JobRouterOptions) {}

  /** Starts `request` as `job`; resolves when the job has ended. */
  async start(job: string, request: Request, emit: (event: JobEvent) => void): Promise<void> {
    if (this.running.has(job)) {
      emit({ type: 'error', error: { cause: 'bad-input', message: `job ${job} is already running` } });
      return;
    }
    try {
      if (needsPrivilege(request)) await this.startPrivileged(job, request, emit);
      else await this.startInHost(job, request, emit);
    } finally {
      this.running.delete(job);
    }
  }

  cancel(job: string): void {
    const running = this.running.get(job);
    if (!running) return;
    switch (running.where) {
      case 'host':
        this.options.jobHost.cancel(job);
        return;
      case 'worker':
        running.cancelled = true;
        running.worker?.cancel(job);
        return;
    }
  }

  cancelAll(): void {
    for (const job of [...this.running.keys()]) this.cancel(job);
  }

  get size(): number {
    return this.running.size;
  }

  private async startInHost(job: string, request: Request, emit: (event: JobEvent) => void): Promise<void> {
    this.running.set(job, { where: 'host' });
    await this.options.jobHost.run(job, request, emit);
  }

  private async startPrivileged(job: string, request: Request, emit: (event: JobEvent) => void): Promise<void> {
    const entry: Running = { where: 'worker', cancelled: false };
    this.running.set(job, entry);
    let worker: PrivilegedWorker;
    try {
      // Checked as the user before the worker unmounts anything: the card holding its own source.
      refuseSourceOnCard(request);
      worker = await this.options.privilegedWorker();
    } catch (error) {
      emit({ type: 'error', error: toErrorInfo(error) });
      return;
    }
    // Cancelled while the password prompt was open: nothing was started, nothing to undo.
    if (entry.cancelled) {
      emit({ type: 'error', error: { cause: 'cancelled', message: 'Cancelled before the privileged writer started; nothing was written' } });
      return;
    }
    entry.worker = worker;
    await worker.run(job, request, emit);
  }
}
