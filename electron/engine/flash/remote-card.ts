/**
 * The card as a job running with the user's rights sees it when the elevated part keeps it and
 * serves raw bytes (elevated/card-server.ts, frames in elevated/card-frames.ts): a TargetDevice
 * whose reads, writes and flushes are frames on a byte channel. Requests are sent without waiting
 * for earlier replies, so the writer's three writes in flight stay in flight; a transfer longer
 * than a frame's 4 MiB goes as several. The session ends with CLOSE, or EJECT after a flash that
 * asked for it: the worker ejects the card once it has closed it.
 */
import type { Duplex } from 'node:stream';
import { decodeHeader, encodeHeader, HEADER_BYTES, MAX_MESSAGE, MAX_TRANSFER, Op, Reply, SESSION_ENDED_ID, type OpCode } from '../elevated/card-frames';
import { CardsmithError, KeyedMessageSchema } from '../errors';
import { isErrorCause } from '../shared/pure';
import { refuseOwnSource, type CardAccess, type CardInfo } from './card';
import type { TargetDevice } from './device';

/** What the worker says about the card it serves (its `card` line), with the session to use. */
export interface ServedCard extends CardInfo {
  readonly session: bigint;
  readonly blockSize: number;
  readonly direct: boolean;
  readonly writable: boolean;
}

interface Pending {
  readonly resolve: (payload: Buffer) => void;
  readonly reject: (error: Error) => void;
}

interface SessionState {
  readonly device: string;
  readonly pending: Map<number, Pending>;
  ended: Error | null;
}

/** The failure a reply carries: "cause\nkeyed\nmessage", as the worker classified it (card-frames.ts). */
function replyError(payload: Buffer, device: string): CardsmithError {
  const text = payload.toString('utf8');
  const [cause = '', keyedLine = '', ...rest] = text.split('\n');
  if (!isErrorCause(cause) || rest.length === 0) return new CardsmithError('io', text, { device });
  const keyed = keyedLine === '' ? null : KeyedMessageSchema.safeParse(parsedJson(keyedLine));
  const said = keyed?.success ? { key: keyed.data.key, params: keyed.data.params } : {};
  return CardsmithError.fromInfo({ cause, message: rest.join('\n'), details: { device }, ...said });
}

function parsedJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

/** The client end of one byte channel: any number of sessions, one after another or at once. */
export class ByteChannelClient {
  private readonly sessions = new Map<bigint, SessionState>();
  private nextId = 1;
  private buffered: Buffer = Buffer.alloc(0);
  private chunks: Buffer[] = [];
  /** Bytes received and not yet taken, and how many the next frame needs. */
  private received = 0;
  private needed = HEADER_BYTES;
  private broken: Error | null = null;

  constructor(private readonly channel: Duplex) {
    channel.on('data', (chunk: Buffer) => this.receive(chunk));
    const gone = (error?: Error): void => {
      this.broken ??= new CardsmithError('internal', `The privileged writer's byte channel closed${error ? `: ${error.message}` : ''}`);
      for (const state of this.sessions.values()) this.endSession(state, this.broken);
    };
    channel.on('end', () => gone());
    channel.on('close', () => gone());
    channel.on('error', gone);
  }

  /** A TargetDevice for the card the worker serves; `finish` ends its session. */
  open(card: ServedCard): RemoteCard {
    const state: SessionState = { device: card.device, pending: new Map(), ended: this.broken };
    this.sessions.set(card.session, state);
    return new RemoteCard(card, (op, offset, length, payload) => this.request(card.session, state, op, offset, length, payload));
  }

  private request(session: bigint, state: SessionState, op: OpCode, offset: number, length: number, payload?: Uint8Array): Promise<Buffer> {
    if (state.ended) return Promise.reject(state.ended);
    const id = this.nextId;
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    return new Promise((resolve, reject) => {
      state.pending.set(id, { resolve, reject });
      this.channel.write(encodeHeader({ op, id, length, offset: BigInt(offset), session }));
      if (payload) this.channel.write(payload);
    });
  }

  private receive(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.received += chunk.length;
    // A 4 MiB reply arrives in many chunks: they are joined once it is complete, not on each one.
    if (this.received < this.needed) return;
    this.buffered = Buffer.concat([this.buffered, ...this.chunks]);
    this.chunks = [];
    for (;;) {
      this.needed = HEADER_BYTES;
      if (this.buffered.length < HEADER_BYTES) break;
      const header = decodeHeader(this.buffered);
      if ('problem' in header || (header.op !== Reply.DONE && header.op !== Reply.FAILED) || header.length > Math.max(MAX_TRANSFER, MAX_MESSAGE)) {
        this.channel.destroy(new Error(`the privileged writer sent a bad reply (${'problem' in header ? header.problem : `op ${header.op}, length ${header.length}`})`));
        return;
      }
      this.needed = HEADER_BYTES + header.length;
      if (this.buffered.length < this.needed) break;
      const payload = this.buffered.subarray(HEADER_BYTES, HEADER_BYTES + header.length);
      this.buffered = this.buffered.subarray(HEADER_BYTES + header.length);
      const state = this.sessions.get(header.session);
      if (!state) continue;
      if (header.id === SESSION_ENDED_ID) {
        this.endSession(state, replyError(payload, state.device));
        continue;
      }
      const pending = state.pending.get(header.id);
      state.pending.delete(header.id);
      if (header.op === Reply.DONE) pending?.resolve(payload);
      else pending?.reject(replyError(payload, state.device));
    }
    this.received = this.buffered.length;
  }

  private endSession(state: SessionState, error: Error): void {
    state.ended ??= error;
    for (const pending of state.pending.values()) pending.reject(state.ended);
    state.pending.clear();
  }

  /** Forgets a session once it has ended. */
  forget(session: bigint): void {
    const state = this.sessions.get(session);
    if (state) this.endSession(state, new CardsmithError('internal', 'The card session is over'));
    this.sessions.delete(session);
  }
}

type Send = (op: OpCode, offset: number, length: number, payload?: Uint8Array) => Promise<Buffer>;

export class RemoteCard {
  private finished: Promise<void> | null = null;
  private ejectAsked = false;

  constructor(
    readonly card: ServedCard,
    private readonly send: Send,
  ) {}

  /** The card as the job writes and reads it. */
  target(): TargetDevice {
    const { device, sizeBytes, blockSize, direct } = this.card;
    const send = this.send;
    return {
      path: device,
      // No descriptor in this process: the card stays open in the elevated part.
      fd: -1,
      direct,
      blockSize,
      async write(data, offset) {
        const parts: Promise<Buffer>[] = [];
        for (let at = 0; at < data.length; at += MAX_TRANSFER) {
          const piece = data.subarray(at, Math.min(at + MAX_TRANSFER, data.length));
          parts.push(send(Op.WRITE, offset + at, piece.length, piece));
        }
        await Promise.all(parts);
      },
      async read(into, offset) {
        const end = Math.min(into.length, Math.max(0, sizeBytes - offset));
        const parts: Promise<number>[] = [];
        for (let at = 0; at < end; at += MAX_TRANSFER) {
          const length = Math.min(MAX_TRANSFER, end - at);
          parts.push(send(Op.READ, offset + at, length).then((payload) => payload.copy(into, at, 0, length)));
        }
        const counts = await Promise.all(parts);
        let done = 0;
        for (const n of counts) {
          done += n;
          if (n < MAX_TRANSFER) break;
        }
        return done;
      },
      sync: async () => void (await send(Op.FLUSH, 0, 0)),
      close: async () => undefined,
    };
  }

  /** Asks the worker to eject the card when the session ends. */
  askEject(): void {
    this.ejectAsked = true;
  }

  /** Ends the session: the worker closes the card (and ejects it if asked). */
  finish(): Promise<void> {
    this.finished ??= this.send(this.ejectAsked ? Op.EJECT : Op.CLOSE, 0, 0).then(() => undefined);
    return this.finished;
  }
}

/** CardAccess for the card the worker serves: its safety was checked by the worker. */
export function remoteCardAccess(remote: RemoteCard): CardAccess {
  return async (_device, options) => {
    if (process.platform === 'linux') refuseOwnSource(remote.card.device, remote.card.key, options.sourcePath);
    return {
    info: remote.card,
    async open(mode) {
      if (mode === 'write' && !remote.card.writable) throw new CardsmithError('internal', `${remote.card.device} was opened read-only for this job`, { device: remote.card.device });
      return remote.target();
    },
      // The worker ejects once the session has ended and it has closed the card.
      eject: async () => remote.askEject(),
    };
  };
}
