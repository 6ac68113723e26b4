/**
 * The byte channel's frames, as pure functions: where the card cannot be handed to a job running
 * as the user (Windows), the elevated part keeps the open card and serves reads and writes of it
 * over one binary stream (card-server.ts), and the unprivileged side runs the job against it
 * (flash/remote-card.ts). All the elevated part ever parses is this fixed 32-byte header (and the
 * raw payload a WRITE carries): no length-prefixed string, no JSON, nothing nested.
 *
 * Request (client → worker), little-endian:
 *   0  magic "CSB1"   4  op (1 READ, 2 WRITE, 3 FLUSH, 4 CLOSE, 5 EJECT)   5..7  zero
 *   8  id u32         12 length u32   16 offset u64   24 session u64
 * followed by `length` payload bytes for a WRITE only.
 * Reply (worker → client): the same header with op 0x80 (done) or 0x81 (failed), the request's
 * id, offset and session, and `length` bytes of payload: the data of a READ, or a UTF-8 message
 * "cause\nkeyed\nmessage" (an ErrorInfo cause; `keyed` the message key and params as one JSON line,
 * or empty, which only the unprivileged client parses). Id 0xffffffff: the worker ended the session.
 */
export const HEADER_BYTES = 32;
/** The largest READ or WRITE: the writer's chunk. */
export const MAX_TRANSFER = 4 << 20;
/** The longest error message a reply carries. */
export const MAX_MESSAGE = 1024;
const MAGIC = 0x31425343; // "CSB1" read as a little-endian u32

export const Op = { READ: 1, WRITE: 2, FLUSH: 3, CLOSE: 4, EJECT: 5 } as const;
export type OpCode = (typeof Op)[keyof typeof Op];
export const Reply = { DONE: 0x80, FAILED: 0x81 } as const;
/** The id of the FAILED reply that tells the client the worker has ended its session. */
export const SESSION_ENDED_ID = 0xffffffff;

/** The longest keyed line a failure carries; a longer one is left out and the English stays. */
const MAX_KEYED = 512;

/** A FAILED reply's text: the keyed line first, so cutting a long message at MAX_MESSAGE keeps it whole. */
export function failureText(info: { readonly cause: string; readonly message: string; readonly key?: string; readonly params?: unknown }): string {
  const keyed = info.key === undefined ? '' : JSON.stringify({ key: info.key, params: info.params ?? {} });
  return `${info.cause}\n${keyed.length <= MAX_KEYED ? keyed : ''}\n${info.message}`;
}

export interface Header {
  readonly op: number;
  readonly id: number;
  readonly length: number;
  /** A bigint: a u64 past 2^53 must be refused, not rounded. */
  readonly offset: bigint;
  readonly session: bigint;
}

export function encodeHeader(header: Header, into: Buffer = Buffer.alloc(HEADER_BYTES)): Buffer {
  into.fill(0, 0, HEADER_BYTES);
  into.writeUInt32LE(MAGIC, 0);
  into.writeUInt8(header.op, 4);
  into.writeUInt32LE(header.id, 8);
  into.writeUInt32LE(header.length, 12);
  into.writeBigUInt64LE(header.offset, 16);
  into.writeBigUInt64LE(header.session, 24);
  return into;
}

/** The header in the first 32 bytes of `bytes`, or why it is not one. */
export function decodeHeader(bytes: Uint8Array): Header | { readonly problem: string } {
  if (bytes.length < HEADER_BYTES) return { problem: `a frame header is ${HEADER_BYTES} bytes, got ${bytes.length}` };
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  if (view.readUInt32LE(0) !== MAGIC) return { problem: `bad magic 0x${view.readUInt32LE(0).toString(16).padStart(8, '0')}` };
  if (view[5] !== 0 || view[6] !== 0 || view[7] !== 0) return { problem: 'reserved header bytes are not zero' };
  return { op: view.readUInt8(4), id: view.readUInt32LE(8), length: view.readUInt32LE(12), offset: view.readBigUInt64LE(16), session: view.readBigUInt64LE(24) };
}

/** What the worker knows of the card it serves. */
export interface ServedLimits {
  readonly session: bigint;
  readonly sizeBytes: number;
  /** Offsets and lengths must be multiples of this (1 for a card opened buffered). */
  readonly blockSize: number;
  readonly writable: boolean;
}

/**
 * Why the worker refuses this request, or null when it serves it. Every refusal ends the
 * session: a client that sends one is not the worker's own job-runner, or is broken.
 */
export function requestProblem(header: Header, limits: ServedLimits): string | null {
  if (header.session !== limits.session) return `frame for session ${header.session}, not the one being served`;
  const { op, length, offset } = header;
  if (op === Op.FLUSH || op === Op.CLOSE || op === Op.EJECT) {
    return length === 0 && offset === 0n ? null : `op ${op} carries no offset or length (got offset ${offset}, length ${length})`;
  }
  if (op !== Op.READ && op !== Op.WRITE) return `unknown op ${op}`;
  if (op === Op.WRITE && !limits.writable) return 'the card was opened read-only';
  if (length === 0 || length > MAX_TRANSFER) return `length ${length} is outside 1..${MAX_TRANSFER}`;
  const size = BigInt(limits.sizeBytes);
  const block = BigInt(limits.blockSize);
  if (offset % block !== 0n || BigInt(length) % block !== 0n) return `offset ${offset} or length ${length} is not a multiple of the block size ${limits.blockSize}`;
  if (offset >= size || offset + BigInt(length) > size) return `bytes ${offset}..${offset + BigInt(length)} reach past the card's end (${size} bytes)`;
  return null;
}

/** A reply frame: header and payload as one buffer (the message of a failure is cut to 1 KiB). */
export function encodeReply(request: Header, failed: string | null, data?: Uint8Array): Buffer {
  const payload = failed !== null ? Buffer.from(failed, 'utf8').subarray(0, MAX_MESSAGE) : (data ?? Buffer.alloc(0));
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  encodeHeader({ op: failed !== null ? Reply.FAILED : Reply.DONE, id: request.id, length: payload.length, offset: request.offset, session: request.session }, out);
  Buffer.from(payload.buffer, payload.byteOffset, payload.length).copy(out, HEADER_BYTES);
  return out;
}
