/**
 * A pull reader over a stream of byte chunks: exact-length reads, skips and chunked pass-through
 * of a known number of bytes, while counting the absolute byte offset. Chunks are sliced, never
 * concatenated beyond the length asked for, so memory stays bounded by the largest exact read.
 */
export class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Uint8Array = new Uint8Array(0);
  private done = false;
  /** Bytes handed out (or skipped) so far. */
  offset = 0;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.iterator = input[Symbol.asyncIterator]();
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
