/**
 * The worker's second way to give a job its card, where the card cannot be handed to a job
 * running as the user (Windows has no uid to start it with; elsewhere only when the worker was
 * started with --serve-bytes, which tests use): the card is found, checked, released and opened
 * exactly as for a handover (open-card.ts), then served as raw bytes on the worker's byte channel
 * (card-server.ts) while the client runs the job. The worker closes the card when the session is
 * over, and ejects it when the client ended a flash that asked for it with EJECT.
 *
 * The channel is chosen by whoever starts the worker, never by a request: its descriptor 3 (a
 * socket its parent made), or on Windows a named pipe of the app's relay whose name the worker's
 * command line gives (`--byte-channel \\.\pipe\cardsmith-…-bytes`).
 */
import { Socket, connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { JobEvent, Request, ServedCardLine } from '../api';
import { ejectCard } from '../drives/unmount';
import { CardsmithError, toErrorInfo } from '../errors';
import { deviceOnFd } from '../flash/device';
import { createJobContext } from '../job';
import { CardServer } from './card-server';
import { openCard } from './open-card';
import { cardMode } from './policy';

/** How this worker gives a card to a job: by descriptor, or as bytes on a channel. */
export type Handover = { readonly kind: 'fd' } | { readonly kind: 'bytes'; readonly server: CardServer | null; readonly problem: string | null };

const PIPE_NAME = /^\\\\\.\\pipe\\cardsmith-\d{1,10}-[0-9a-f]{32}-bytes$/;

/** The channel named on the command line, or descriptor 3; an error names what is wrong. */
export function openByteChannel(pipe: string | undefined, platform: NodeJS.Platform = process.platform): Duplex {
  if (pipe !== undefined) {
    if (platform !== 'win32' || !PIPE_NAME.test(pipe)) throw new CardsmithError('bad-input', `--byte-channel takes the app's own named pipe (\\\\.\\pipe\\cardsmith-…-bytes), not ${pipe.slice(0, 200)}`);
    return connect(pipe);
  }
  if (platform === 'win32') throw new CardsmithError('internal', 'On Windows the privileged writer needs --byte-channel to serve the card');
  return new Socket({ fd: 3, readable: true, writable: true });
}

/** Decides the handover once, when the worker starts: bytes on Windows or when asked to. */
export function chooseHandover(options: { serveBytes: boolean; byteChannel?: string }, platform: NodeJS.Platform = process.platform): Handover {
  if (!options.serveBytes && platform !== 'win32') return { kind: 'fd' };
  try {
    const channel = openByteChannel(options.byteChannel, platform);
    // The channel never keeps the worker running: it ends with its stdin.
    (channel as Socket).unref();
    return { kind: 'bytes', server: new CardServer(channel), problem: null };
  } catch (error) {
    return { kind: 'bytes', server: null, problem: toErrorInfo(error).message };
  }
}

export interface ServedJob {
  readonly request: Request;
  readonly device: string;
  readonly allowLoop: boolean;
  readonly signal: AbortSignal;
  /** Called with the function that ends the session (cancel, shutdown). */
  readonly onCancel: (cancel: () => void) => void;
}

/** Opens the card, serves it until the session ends, closes (and maybe ejects) it, reports. */
export async function runServedJob(server: CardServer | null, problem: string | null, job: ServedJob, emit: (event: JobEvent) => void, announce: (card: ServedCardLine | { state: 'closed'; ejected: boolean }) => void): Promise<void> {
  if (server === null) return emit({ type: 'error', error: { cause: 'internal', message: `The privileged writer has no byte channel to serve ${job.device} on: ${problem}` } });
  const ctx = createJobContext(emit, job.signal);
  let opened: Awaited<ReturnType<typeof openCard>>;
  try {
    opened = await openCard(job.device, cardMode(job.request), { allowLoop: job.allowLoop }, ctx);
    ctx.throwIfCancelled();
  } catch (error) {
    return emit({ type: 'error', error: toErrorInfo(error) });
  }
  const { grant } = opened;
  let end;
  try {
    const target = deviceOnFd(opened.fd, grant.device, grant.direct, grant.blockSize);
    const served = server.serve({ sizeBytes: grant.sizeBytes, blockSize: grant.blockSize, writable: grant.writable }, target);
    job.onCancel(() => served.end('Cancelled; the privileged writer closed the card'));
    if (job.signal.aborted) served.end('Cancelled; the privileged writer closed the card');
    const { fd: _fd, ...card } = grant;
    announce({ state: 'served', session: served.session.toString(16).padStart(16, '0'), ...card });
    end = await served.ended;
  } finally {
    await opened.close().catch((error: unknown) => ctx.log('warn', `closing ${grant.device} failed: ${(error as Error).message}`));
  }
  if (!end.ok) return emit({ type: 'error', error: end.error });
  const eject = end.eject && job.request.op === 'flash' && job.request.eject;
  if (eject) await ejectCard(grant.device, ctx);
  announce({ state: 'closed', ejected: eject });
}
