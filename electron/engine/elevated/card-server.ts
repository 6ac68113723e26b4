/**
 * The elevated part serving an open card as raw bytes over one binary channel (the worker's
 * fourth stream), for an OS where the card cannot be handed to a job running as the user. Per
 * frame it checks only the fixed header (card-frames.ts: op, offset, length, session) against
 * the card it opened and validated, and does that one read, write or flush. Any other frame ends
 * every session on the channel — the stream's framing can no longer be trusted — after the
 * transfers already started have finished; the channel then skips bytes until the header of a
 * session it is serving, so the next job is served. (Frames of a session that has just ended,
 * sent before its client learnt of the end, are skipped the same way without ending others.)
 *
 * A session that wrote and ends any other way than by its client's CLOSE or EJECT (a bad frame,
 * a cancel, the channel or the app gone) gets the card's first MiB zeroed, as a cancelled flash
 * does, so a half-written card does not boot or mount.
 * Memory stays bounded whatever the client sends: at most MAX_IN_FLIGHT transfers, each in its own
 * 4 MiB buffer, and no frame is read while replies wait for the client to take them.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { alignedBuffers } from '../flash/aligned';
import { toErrorInfo, type ErrorInfo } from '../errors';
import type { TargetDevice } from '../flash/device';
import { decodeHeader, encodeReply, failureText, HEADER_BYTES, MAX_TRANSFER, Op, requestProblem, SESSION_ENDED_ID, type Header, type ServedLimits } from './card-frames';

export const MAX_IN_FLIGHT = 4;
const HEAD_BYTES = 1 << 20;

export type SessionEnd = { readonly ok: true; readonly eject: boolean } | { readonly ok: false; readonly error: ErrorInfo };

export interface ServedSession {
  readonly session: bigint;
  /** Resolves once no transfer of the session runs any more: the card may be closed. */
  readonly ended: Promise<SessionEnd>;
  /** Ends the session from the worker's side (cancel, shutdown). */
  end(message: string): void;
}

interface Session {
  readonly limits: ServedLimits;
  readonly target: Pick<TargetDevice, 'read' | 'write' | 'sync'>;
  readonly running: Set<Promise<void>>;
  wrote: boolean;
  done: boolean;
  finish: (end: SessionEnd) => void;
}

type State = { readonly kind: 'header' } | { readonly kind: 'payload'; readonly header: Header; readonly session: Session; readonly buffer: Buffer; filled: number } | { readonly kind: 'resync' };

export class CardServer {
  private readonly sessions = new Map<bigint, Session>();
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private state: State = { kind: 'header' };
  private inflight = 0;
  private barrier = false;
  private free: Buffer[] | null = null;
  private broken: string | null = null;
  /** The last sessions that ended, whose late frames are skipped rather than refused. */
  private readonly retired: bigint[] = [];

  constructor(private readonly channel: Duplex) {
    channel.on('data', (chunk: Buffer) => {
      this.queue.push(chunk);
      this.queued += chunk.length;
      this.pump();
    });
    channel.on('drain', () => this.pump());
    const gone = (): void => {
      this.broken ??= 'the byte channel closed';
      for (const session of this.sessions.values()) this.stop(session, { cause: 'internal', message: this.broken ?? '' });
    };
    channel.on('end', gone);
    channel.on('close', gone);
    channel.on('error', (error: Error) => {
      this.broken ??= `the byte channel failed: ${error.message}`;
      gone();
    });
  }

  /** Serves `target` until its client closes it or the session is ended. */
  serve(card: Omit<ServedLimits, 'session'>, target: Session['target']): ServedSession {
    const session = randomBytes(8).readBigUInt64LE(0) | 1n;
    let finish: (end: SessionEnd) => void = () => undefined;
    const ended = new Promise<SessionEnd>((resolve) => (finish = resolve));
    const entry: Session = { limits: { ...card, session }, target, running: new Set(), wrote: false, done: false, finish };
    this.sessions.set(session, entry);
    if (this.broken !== null) this.stop(entry, { cause: 'internal', message: this.broken });
    this.pump();
    return { session, ended, end: (message) => this.stop(entry, { cause: 'cancelled', message }) };
  }

  /** One of the aligned transfer buffers (O_DIRECT needs aligned memory), held by one transfer. */
  private acquire(): Buffer {
    this.free ??= alignedBuffers(MAX_IN_FLIGHT, MAX_TRANSFER);
    this.inflight += 1;
    return this.free.pop() as Buffer;
  }

  private pump(): void {
    for (;;) {
      if (this.state.kind === 'payload') {
        if (!this.fillPayload(this.state)) return void this.channel.resume();
        const { header, session, buffer } = this.state;
        this.state = { kind: 'header' };
        this.start(session, header, buffer);
        continue;
      }
      if (this.inflight >= MAX_IN_FLIGHT || this.barrier || this.channel.writableNeedDrain) return void this.channel.pause();
      if (this.state.kind === 'resync' && !this.resync()) return void this.channel.resume();
      if (this.queued < HEADER_BYTES) return void this.channel.resume();
      const header = decodeHeader(this.take(HEADER_BYTES));
      if (!('problem' in header) && this.retired.includes(header.session)) {
        // A frame its client sent before its session ended: skipped, with whatever payload follows.
        this.state = { kind: 'resync' };
        continue;
      }
      const session = 'problem' in header ? undefined : this.sessions.get(header.session);
      const problem = 'problem' in header ? header.problem : session === undefined ? `frame for session ${header.session}, which is not being served` : requestProblem(header, session.limits);
      if (problem !== null || session === undefined || 'problem' in header) {
        this.protocolError(problem ?? 'bad frame');
        continue;
      }
      if (header.op === Op.WRITE) {
        this.state = { kind: 'payload', header, session, buffer: this.acquire(), filled: 0 };
        continue;
      }
      if (header.op === Op.READ) {
        this.start(session, header, this.acquire());
        continue;
      }
      this.barrier = true;
      void this.settle(session, header).finally(() => {
        this.barrier = false;
        this.pump();
      });
    }
  }

  /** A READ or WRITE; `buffer` is one of the aligned buffers, held until the transfer ends. */
  private start(session: Session, header: Header, buffer: Buffer): void {
    if (session.done) {
      // Ended while its payload was arriving: the card may be closed already.
      this.free?.push(buffer);
      this.inflight -= 1;
      return;
    }
    const offset = Number(header.offset);
    const data = buffer.subarray(0, header.length);
    const transfer = (async () => {
      let reply: Buffer;
      try {
        if (header.op === Op.WRITE) {
          session.wrote = true;
          await session.target.write(data, offset);
          reply = encodeReply(header, null);
        } else {
          const n = await session.target.read(data, offset);
          reply = encodeReply(header, null, data.subarray(0, n));
        }
      } catch (error) {
        const info = toErrorInfo(error);
        reply = encodeReply(header, failureText(info));
      }
      if (!session.done) this.send(reply);
    })();
    const tracked = transfer.finally(() => {
      session.running.delete(tracked);
      this.free?.push(buffer);
      this.inflight -= 1;
      this.pump();
    });
    session.running.add(tracked);
  }

  /** FLUSH, CLOSE or EJECT: after every transfer of the session has finished. */
  private async settle(session: Session, header: Header): Promise<void> {
    await Promise.allSettled([...session.running]);
    if (session.done) return;
    if (header.op === Op.FLUSH) {
      const failed = await session.target.sync().then(
        () => null,
        (error: unknown) => (error as Error).message,
      );
      return this.send(encodeReply(header, failed));
    }
    this.retire(session);
    this.send(encodeReply(header, null));
    session.finish({ ok: true, eject: header.op === Op.EJECT });
  }

  private fillPayload(state: Extract<State, { kind: 'payload' }>): boolean {
    while (state.filled < state.header.length && this.queue.length > 0) {
      const chunk = this.queue[0] as Buffer;
      const n = Math.min(chunk.length, state.header.length - state.filled);
      chunk.copy(state.buffer, state.filled, 0, n);
      state.filled += n;
      this.drop(n);
    }
    return state.filled === state.header.length;
  }

  private take(n: number): Buffer {
    const out = Buffer.alloc(n);
    let filled = 0;
    for (const chunk of this.queue) {
      filled += chunk.copy(out, filled, 0, Math.min(chunk.length, n - filled));
      if (filled === n) break;
    }
    this.drop(n);
    return out;
  }

  private drop(n: number): void {
    let left = n;
    while (left > 0) {
      const chunk = this.queue[0] as Buffer;
      if (chunk.length <= left) {
        this.queue.shift();
        left -= chunk.length;
      } else {
        this.queue[0] = chunk.subarray(left);
        left = 0;
      }
    }
    this.queued -= n;
  }

  /** Skips to the first header of a session being served; false while none has arrived yet. */
  private resync(): boolean {
    const all = Buffer.concat(this.queue);
    let at = 0;
    for (; at + HEADER_BYTES <= all.length; at += 1) {
      const header = decodeHeader(all.subarray(at));
      if (!('problem' in header) && this.sessions.has(header.session)) break;
    }
    // Not found: the last bytes (fewer than a header) are kept, a header may start there.
    this.queue.length = 0;
    this.queue.push(all.subarray(at));
    this.queued = all.length - at;
    if (at + HEADER_BYTES > all.length) return false;
    this.state = { kind: 'header' };
    return true;
  }

  private protocolError(problem: string): void {
    for (const session of [...this.sessions.values()]) this.stop(session, { cause: 'bad-input', message: `The card session was ended: ${problem}` });
    this.state = { kind: 'resync' };
  }

  /** Ends a session not closed by its client; zeroes the card's head if it wrote. */
  private stop(session: Session, error: ErrorInfo): void {
    if (session.done) return;
    this.retire(session);
    if (this.broken === null) this.send(encodeReply({ op: 0, id: SESSION_ENDED_ID, length: 0, offset: 0n, session: session.limits.session }, failureText(error)));
    void (async () => {
      await Promise.allSettled([...session.running]);
      if (session.wrote) {
        const length = Math.min(HEAD_BYTES, session.limits.sizeBytes);
        const zeros = (alignedBuffers(1, HEAD_BYTES)[0] as Buffer).subarray(0, length - (length % session.limits.blockSize));
        await session.target.write(zeros, 0).catch(() => undefined);
        await session.target.sync().catch(() => undefined);
      }
      session.finish({ ok: false, error });
    })();
  }

  private retire(session: Session): void {
    session.done = true;
    this.sessions.delete(session.limits.session);
    this.retired.push(session.limits.session);
    if (this.retired.length > 64) this.retired.shift();
  }

  private send(frame: Buffer): void {
    if (this.broken === null && !this.channel.writableEnded) this.channel.write(frame);
  }
}
