/**
 * Jobs the app runs itself, unprivileged, on a card the privileged worker serves as raw bytes
 * (where it cannot hand the card to a job running as the user: Windows). The worker has found,
 * checked, released and opened the card; here the whole job runs — source, decoding, verify,
 * log — with `remoteCardAccess`, and its session is ended (CLOSE, or EJECT after a flash that asked
 * for it) when the job is over, so the worker can close the card and report.
 */
import type { Duplex } from 'node:stream';
import type { JobEvent, Request, ServedCardLine } from '../engine/api';
import { ByteChannelClient, remoteCardAccess } from '../engine/flash/remote-card';
import { runRequest } from '../engine/operations';

export type JobEnd = Extract<JobEvent, { type: 'result' | 'error' }>;

interface Served {
  readonly controller: AbortController;
  /** The job's own terminal event, once it has ended and its session is over. */
  readonly done: Promise<JobEnd>;
}

export class ServedJobs {
  private readonly running = new Map<string, Served>();
  private readonly bytes: ByteChannelClient | null;

  constructor(channel: Duplex | null) {
    this.bytes = channel ? new ByteChannelClient(channel) : null;
  }

  /** Runs `request` here against the served card; says why not when it cannot. */
  start(job: string, request: Request, card: ServedCardLine, onEvent: (event: JobEvent) => void): string | null {
    const bytes = this.bytes;
    if (!bytes) return `the privileged writer serves ${card.device} as bytes, but this app has no byte channel to it`;
    if (this.running.has(job)) return `job ${job} is already running on a served card`;
    const session = BigInt(`0x${card.session}`);
    const remote = bytes.open({ ...card, session });
    const controller = new AbortController();
    let terminal: JobEnd | null = null;
    const relay = (event: JobEvent): void => {
      if (event.type === 'result' || event.type === 'error') terminal ??= event;
      else onEvent(event);
    };
    const done = runRequest(request, relay, controller.signal, { card: remoteCardAccess(remote) })
      .then(() => remote.finish().catch(() => undefined))
      .then((): JobEnd => {
        bytes.forget(session);
        return terminal ?? { type: 'error', error: { cause: 'internal', message: 'The job on the served card ended without a result' } };
      });
    this.running.set(job, { controller, done });
    return null;
  }

  /** Cancels a job running here; false when `job` is not one. */
  cancel(job: string): boolean {
    const served = this.running.get(job);
    served?.controller.abort();
    return served !== undefined;
  }

  /** The worker closed the job's card: the job's own end. */
  async closed(job: string): Promise<JobEnd> {
    const served = this.running.get(job);
    this.running.delete(job);
    return served ? served.done : { type: 'error', error: { cause: 'internal', message: `The privileged writer closed a card for job ${job}, which was not served here` } };
  }

  /** The worker ended the job (an error): stops the job here if it runs, and waits for it. */
  async ended(job: string): Promise<void> {
    const served = this.running.get(job);
    if (!served) return;
    this.running.delete(job);
    served.controller.abort();
    await served.done;
  }
}
