/**
 * The main process's half of the envelope protocol, whatever carries it (the privileged worker's
 * stdin/stdout lines, the job host's messages): starts jobs with validated `WorkerCommand`s,
 * validates every `Envelope` that comes back (the other side is another process: nothing it
 * sends is trusted unchecked), routes each event to its job and ends every job exactly once —
 * with its result, its error, or the error given when the other side goes away.
 */
import { EnvelopeSchema, parseResult, WorkerCommandSchema, type JobEvent, type Op, type Request, type RequestInput, type ResultOf, type WorkerCommand } from '../engine/api';
import type { ErrorInfo } from '../engine/errors';

export interface OpenJob {
  readonly op: Op;
  /** The request as validated when it was sent. */
  readonly request: Request;
  readonly onEvent: (event: JobEvent) => void;
  readonly settle: (result: unknown) => void;
}

export interface EnvelopeJobsOptions {
  /** Who answers, as a person reads it in an error ("the privileged writer"). */
  readonly peer: string;
  readonly send: (command: WorkerCommand) => void;
  /** Messages that are not valid envelopes, or envelopes for no open job. */
  readonly onProblem?: (problem: string) => void;
  /** Waited for before a job ends with an error (a job this side runs on a served card ends first). */
  readonly beforeError?: (job: string) => Promise<void>;
}

export class EnvelopeJobs {
  private readonly jobs = new Map<string, OpenJob>();

  constructor(private readonly options: EnvelopeJobsOptions) {}

  get size(): number {
    return this.jobs.size;
  }

  jobIds(): string[] {
    return [...this.jobs.keys()];
  }

  /**
   * Starts `request` as `job` on the other side. Every event goes to `onEvent` in order, ending
   * with exactly one `result` or `error`; resolves with the result, or undefined after an error.
   */
  run<O extends Op>(job: string, request: Extract<RequestInput, { op: O }>, onEvent: (event: JobEvent) => void): Promise<ResultOf<O> | undefined> {
    return new Promise((resolve) => {
      const fail = (error: ErrorInfo): void => {
        onEvent({ type: 'error', error });
        resolve(undefined);
      };
      if (this.jobs.has(job)) return fail({ cause: 'bad-input', message: `job ${job} is already running` });
      const command = WorkerCommandSchema.safeParse({ cmd: 'start', job, request });
      if (!command.success) return fail({ cause: 'bad-input', message: `Invalid request: ${command.error.message}` });
      const sent = command.data as Extract<WorkerCommand, { cmd: 'start' }>;
      this.jobs.set(job, { op: request.op, request: sent.request, onEvent, settle: resolve as (result: unknown) => void });
      this.options.send(command.data);
    });
  }

  cancel(job: string): void {
    if (this.jobs.has(job)) this.options.send({ cmd: 'cancel', job });
  }

  /** The open job `job`, if any. */
  get(job: string): OpenJob | undefined {
    return this.jobs.get(job);
  }

  /** Ends `job` with the terminal event another path produced (a job run on a served card). */
  end(job: string, event: JobEvent): void {
    const open = this.jobs.get(job);
    if (!open) return;
    if (event.type === 'result') return this.settleResult(job, open, event.result);
    this.jobs.delete(job);
    open.onEvent(event);
    open.settle(undefined);
  }

  /** One message from the other side, already decoded (JSON line or structured clone). */
  receive(message: unknown, shown: () => string): void {
    const parsed = EnvelopeSchema.safeParse(message);
    if (!parsed.success) return this.problem(`not an envelope: ${shown()}`);
    const { job, event } = parsed.data;
    const open = this.jobs.get(job);
    if (!open) {
      const what = event.type === 'error' ? event.error.message : event.type;
      return this.problem(`event for ${job === 'protocol' ? 'the protocol' : `unknown job ${job}`}: ${what}`);
    }
    switch (event.type) {
      case 'phase':
      case 'progress':
      case 'log':
        open.onEvent(event);
        return;
      case 'result':
        return this.settleResult(job, open, event.result);
      case 'error':
        this.jobs.delete(job);
        void (this.options.beforeError?.(job) ?? Promise.resolve()).then(() => {
          open.onEvent(event);
          open.settle(undefined);
        });
        return;
    }
  }

  /** Ends every open job with `error` (the other side is gone). */
  async failAll(error: ErrorInfo): Promise<void> {
    for (const [job, open] of this.jobs) {
      this.jobs.delete(job);
      await this.options.beforeError?.(job);
      open.onEvent({ type: 'error', error });
      open.settle(undefined);
    }
  }

  problem(message: string): void {
    this.options.onProblem?.(message);
  }

  private settleResult(job: string, open: OpenJob, raw: unknown): void {
    this.jobs.delete(job);
    let result: unknown;
    try {
      result = parseResult(open.op, raw);
    } catch {
      open.onEvent({ type: 'error', error: { cause: 'internal', message: `${capitalised(this.options.peer)} sent a ${open.op} result that does not match the contract` } });
      open.settle(undefined);
      return;
    }
    open.onEvent({ type: 'result', op: open.op, result });
    open.settle(result);
  }
}

const capitalised = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
