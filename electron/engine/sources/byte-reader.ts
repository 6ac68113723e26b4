/**
 * A pull reader over a stream of byte chunks: exact-length reads, skips and chunked pass-through
 * of a known number of bytes, while counting the absolute byte offset. Chunks are sliced, never
 * concatenated beyond the length asked for, so memory stays bounded by the largest exact read.
 *
 * A Node Readable is taken chunk by chunk as it is pushed (see `pullChunks`) rather than through
 * its async iterator, which joins whatever is buffered into a new buffer on every step.
 */
import { Readable } from 'node:stream';

/** Bytes a Node stream may hold queued for the reader before it is paused. */
const QUEUE_BYTES = 4 << 20;

export class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Uint8Array = new Uint8Array(0);
  private done = false;
  /** Bytes handed out (or skipped) so far. */
  offset = 0;

  constructor(input: AsyncIterable<Uint8Array> | Readable) {
    this.iterator = input instanceof Readable ? pullChunks(input) : input[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    while (this.pending.length === 0) {
      if (this.done) return false;
      const next = await this.iterator.next();
      if (next.done) {
        this.done = true;
        return false;
      }
      this.pending = next.value;
    }
    return true;
  }

  /** Up to `max` bytes (a slice of the current chunk), or null at end of input. */
  async readSome(max: number): Promise<Uint8Array | null> {
    if (!(await this.fill())) return null;
    const take = Math.min(max, this.pending.length);
    const out = this.pending.subarray(0, take);
    this.pending = this.pending.subarray(take);
    this.offset += take;
    return out;
  }

  /** Exactly `length` bytes; fewer only when the input ends (the caller judges truncation). */
  async readExact(length: number): Promise<Uint8Array> {
    const first = await this.readSome(length);
    if (first === null) return new Uint8Array(0);
    if (first.length === length) return first;
    const out = new Uint8Array(length);
    out.set(first, 0);
    let got = first.length;
    while (got < length) {
      const part = await this.readSome(length - got);
      if (part === null) return out.subarray(0, got);
      out.set(part, got);
      got += part.length;
    }
    return out;
  }

  /** Skips `length` bytes; returns how many were actually skipped. */
  async skip(length: number): Promise<number> {
    let left = length;
    while (left > 0) {
      const part = await this.readSome(left);
      if (part === null) break;
      left -= part.length;
    }
    return length - left;
  }

  /** Releases the underlying stream early (e.g. after an error). */
  async close(): Promise<void> {
    this.done = true;
    await this.iterator.return?.();
  }
}

/**
 * The chunks of a Node stream in order, each as pushed, with at most QUEUE_BYTES queued before
 * the stream is paused. A stream error is thrown once the chunks that preceded it are taken.
 * `return()` destroys the stream.
 */
function pullChunks(stream: Readable): AsyncIterator<Uint8Array> {
  const queue: Uint8Array[] = [];
  let head = 0;
  let queued = 0;
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  stream.on('data', (chunk: Uint8Array) => {
    queue.push(chunk);
    queued += chunk.length;
    if (queued >= QUEUE_BYTES) stream.pause();
    notify();
  });
  stream.once('end', () => {
    ended = true;
    notify();
  });
  stream.once('error', (error) => {
    failure = error;
    notify();
  });
  stream.once('close', () => {
    // Destroyed by someone else before its end: what was read is not the whole stream.
    if (!ended && !failure) failure = new Error('the stream was closed before its end');
    notify();
  });
  return {
    async next(): Promise<IteratorResult<Uint8Array>> {
      while (head === queue.length) {
        if (failure) throw failure;
        if (ended) return { done: true, value: undefined };
        await new Promise<void>((resolve) => (wake = resolve));
      }
      const chunk = queue[head]!;
      queue[head++] = EMPTY;
      if (head === queue.length) {
        queue.length = 0;
        head = 0;
      }
      queued -= chunk.length;
      if (queued < QUEUE_BYTES && stream.isPaused() && !ended) stream.resume();
      return { done: false, value: chunk };
    },
    async return(): Promise<IteratorResult<Uint8Array>> {
      ended = true;
      stream.destroy();
      return { done: true, value: undefined };
    },
  };
}

const EMPTY = new Uint8Array(0);
