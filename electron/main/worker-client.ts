/**
 * The GUI's side of the privileged worker protocol. The worker (`cardsmith worker`, started
 * elevated) reads WorkerCommand lines on its stdin and writes Envelope lines on its stdout; this
 * client frames those lines, validates every one with the contract's schemas (the worker is
 * another process: nothing it sends is trusted unchecked), routes each event to its job and ends
 * every job exactly once — with its result, its error, or an error when the worker goes away.
 * Where the worker serves a card as raw bytes instead of handing it to a job (Windows), it says
 * so with a `card` line and this client runs the job itself, unprivileged, against the served
 * card (served-jobs.ts).
 */
import type { Duplex, Readable, Writable } from 'node:stream';
import { WorkerLineSchema, type JobEvent, type Op, type RequestInput, type ResultOf, type WorkerCommand } from '../engine/api';
import type { ErrorInfo } from '../engine/errors';
import { createLineSplitter } from '../engine/ndjson';
import { EnvelopeJobs } from './envelope-jobs';
import { ServedJobs } from './served-jobs';

export interface WorkerStreams {
  readonly stdin: Writable;
  readonly stdout: Readable;
  /** The worker's byte channel, where it serves cards as raw bytes (its fourth stream). */
  readonly channel?: Duplex;
}

export interface WorkerClientOptions {
  /** Resolves, once the worker process has ended, with what to tell jobs that were still open. */
  readonly exited?: Promise<ErrorInfo>;
  /** Lines that are not valid envelopes, or envelopes for no open job. */
  readonly onProtocolProblem?: (problem: string) => void;
}

const WORKER_GONE: ErrorInfo = {
  cause: 'internal',
  message: 'The privileged writer stopped before the job finished',
  hint: 'Start the job again; if it keeps happening, attach the log to a report.',
};

export class WorkerClient {
  private readonly jobs: EnvelopeJobs;
  private ended = false;
  private readonly finished: Promise<void>;
  private readonly served: ServedJobs;

  constructor(
    private readonly streams: WorkerStreams,
    private readonly options: WorkerClientOptions = {},
  ) {
    this.served = new ServedJobs(streams.channel ?? null);
    this.jobs = new EnvelopeJobs({
      peer: 'the privileged writer',
      send: (command) => this.send(command),
      onProblem: options.onProtocolProblem,
      // A served job still running here ends first (its session is over); the worker's error is the end.
      beforeError: (job) => this.served.ended(job),
    });
    const splitter = createLineSplitter({ onTooLong: (limit) => this.jobs.problem(`a worker line longer than ${limit} bytes was dropped`) });
    streams.stdout.setEncoding('utf8');
    // A write after the worker died raises EPIPE here; the end of stdout reports the loss.
    streams.stdin.on('error', () => undefined);
    this.finished = new Promise((resolve) => {
      const finish = (): void => {
        if (this.ended) return;
        this.ended = true;
        for (const line of splitter.end()) this.receive(line);
        void this.failOpenJobs().then(resolve);
      };
      streams.stdout.on('data', (chunk: string) => {
        for (const line of splitter.push(chunk)) this.receive(line);
      });
      streams.stdout.on('end', finish);
      streams.stdout.on('close', finish);
      streams.stdout.on('error', finish);
    });
  }

  /** True once the worker's stdout has ended; new jobs then fail at once. */
  get closed(): boolean {
    return this.ended;
  }

  /**
   * Starts `request` as `job` in the worker. Every event goes to `onEvent` in order, ending with
   * exactly one `result` or `error`; resolves with the result, or undefined after an error.
   */
  run<O extends Op>(
    job: string,
    request: Extract<RequestInput, { op: O }>,
    onEvent: (event: JobEvent) => void,
  ): Promise<ResultOf<O> | undefined> {
    if (this.ended) {
      onEvent({ type: 'error', error: WORKER_GONE });
      return Promise.resolve(undefined);
    }
    return this.jobs.run(job, request, onEvent);
  }

  cancel(job: string): void {
    // A served job runs here: cancelling it here zeroes the card's head through the worker first.
    if (this.served.cancel(job)) return;
    this.jobs.cancel(job);
  }

  /** Asks the worker to finish its jobs' cancellation and exit; resolves when its stdout ends. */
  async shutdown(): Promise<void> {
    if (!this.ended) {
      for (const job of this.jobs.jobIds()) this.send({ cmd: 'cancel', job });
      this.send({ cmd: 'shutdown' });
      this.streams.stdin.end();
    }
    await this.finished;
  }

  private send(command: WorkerCommand): void {
    if (this.streams.stdin.writable) this.streams.stdin.write(`${JSON.stringify(command)}\n`);
  }

  private receive(line: string): void {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return this.jobs.problem(`not JSON: ${line.slice(0, 200)}`);
    }
    const parsed = WorkerLineSchema.safeParse(json);
    if (parsed.success && 'card' in parsed.data) {
      const { job, card } = parsed.data;
      const open = this.jobs.get(job);
      if (!open) return this.jobs.problem(`card line for unknown job ${job}`);
      if (card.state === 'closed') {
        void this.served.closed(job).then((end) => this.jobs.end(job, end));
        return;
      }
      const refused = this.served.start(job, open.request, card, open.onEvent);
      if (refused) {
        this.jobs.problem(refused);
        this.send({ cmd: 'cancel', job });
      }
      return;
    }
    this.jobs.receive(json, () => line.slice(0, 200));
  }

  private async failOpenJobs(): Promise<void> {
    if (this.jobs.size === 0) return;
    await this.jobs.failAll(this.options.exited ? await this.options.exited : WORKER_GONE);
  }
}
