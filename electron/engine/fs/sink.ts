/**
 * A block sink is where filesystem and partition-table writers put bytes: "write these bytes at
 * this byte offset of the target". Writers never read back and never seek on their own, so the same
 * writer serves an image file, a card, or memory. A sink remembers which byte ranges were written
 * (the mapped ranges); everything else is a hole that reads as zeros — exactly what a bmap lists.
 */
import { open, type FileHandle } from 'node:fs/promises';

export interface ByteRange {
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

export interface BlockSink {
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Byte ranges written so far, sorted and merged. */
  mappedRanges(): ByteRange[];
}

/**
 * Keeps a sorted, merged list of written ranges. Writers mostly append (each write starts at or
 * after the last one's end), so that case is O(1); any other write finds its place by binary
 * search and replaces only the ranges it touches, without copying the whole list.
 */
export class RangeSet {
  private readonly ranges: ByteRange[] = [];

  add(start: number, end: number): void {
    if (end <= start) return;
    const last = this.ranges[this.ranges.length - 1];
    if (!last || last.end < start) {
      this.ranges.push({ start, end });
      return;
    }
    if (last.start <= start) {
      if (end > last.end) this.ranges[this.ranges.length - 1] = { start: last.start, end };
      return;
    }
    // The first range that ends at or after `start` (touching ranges merge).
    let low = 0;
    let high = this.ranges.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.ranges[mid]!.end < start) low = mid + 1;
      else high = mid;
    }
    let past = low;
    let s = start;
    let e = end;
    while (past < this.ranges.length && this.ranges[past]!.start <= e) {
      s = Math.min(s, this.ranges[past]!.start);
      e = Math.max(e, this.ranges[past]!.end);
      past++;
    }
    this.ranges.splice(low, past - low, { start: s, end: e });
  }

  toArray(): ByteRange[] {
    return this.ranges.slice();
  }
}

/** A sink over a regular file; unwritten ranges stay sparse holes. */
export class FileSink implements BlockSink {
  private readonly ranges = new RangeSet();

  private constructor(private readonly handle: FileHandle) {}

  /** Creates (or truncates) `path` at `sizeBytes`, entirely a hole. */
  static async create(path: string, sizeBytes: number): Promise<FileSink> {
    const handle = await open(path, 'w+');
    await handle.truncate(sizeBytes);
    return new FileSink(handle);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
    this.ranges.add(offset, offset + data.length);
  }

  mappedRanges(): ByteRange[] {
    return this.ranges.toArray();
  }

  async close(): Promise<void> {
    await this.handle.sync();
    await this.handle.close();
  }
}

/** A sink into memory, for tests and for small structures assembled before writing. */
export class MemorySink implements BlockSink {
  private readonly ranges = new RangeSet();
  readonly bytes: Uint8Array;

  constructor(sizeBytes: number) {
    this.bytes = new Uint8Array(sizeBytes);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (offset + data.length > this.bytes.length) {
      throw new RangeError(`write of ${data.length} bytes at ${offset} runs past the end (${this.bytes.length})`);
    }
    this.bytes.set(data, offset);
    this.ranges.add(offset, offset + data.length);
  }

  mappedRanges(): ByteRange[] {
    return this.ranges.toArray();
  }
}

/** A view of a sink shifted by `base` bytes, e.g. a partition inside a disk image. */
export function offsetSink(inner: BlockSink, base: number): BlockSink {
  return {
    write: (offset, data) => inner.write(base + offset, data),
    mappedRanges: () =>
      inner
        .mappedRanges()
        .filter((r) => r.end > base)
        .map((r) => ({ start: Math.max(0, r.start - base), end: r.end - base })),
  };
}
