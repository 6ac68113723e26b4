/**
 * What happens to the bytes an image leaves empty. Cards write at 20–90 MB/s but read 2–3× faster,
 * and a fresh or recently erased card already reads zero almost everywhere, so writing zeros is
 * mostly wasted time. The policies (docs/flash.md "Holes"):
 *   skip        bmap holes are left as the card has them (bmaptool's way): old data may remain in
 *               blocks the image says are unused; verify covers the mapped blocks only.
 *   read-first  bmap holes are read and zeros written only where the card is not zero already;
 *               the card then equals the image everywhere and verify reads the holes back too.
 *   zero        every hole is zeroed blindly (BLKZEROOUT where the device does it, else writes)
 *               and every all-zero chunk of data is written: the same I/O whatever the card held.
 * Under skip and read-first, a run of all-zero blocks in the image data (a zeroed journal, unused space in
 * an image without a bmap) is read first and written only when the card differs: the image says
 * zeros there, so the card must read zero, but it need not be written to get there.
 */
import { alignedBuffers } from './aligned';
import type { TargetDevice } from './device';
import type { ByteRange } from './plan';

export type HolePolicy = 'skip' | 'read-first' | 'zero';
export const DEFAULT_HOLE_POLICY: HolePolicy = 'skip';

/** After this many reads in a row find old data, the card is taken as dirty: zeros are written without reading first. */
const DIRTY_IN_A_ROW = 4;

/** Zeros are looked for in blocks of this size, and runs shorter than ZERO_RUN_MIN are written anyway (a card pays per request). */
const ZERO_BLOCK = 64 * 1024;
const ZERO_RUN_MIN = 256 * 1024;

let zeros = Buffer.alloc(0);

export function isAllZero(bytes: Uint8Array): boolean {
  if (zeros.length < bytes.length) zeros = Buffer.alloc(bytes.length);
  return zeros.compare(bytes, 0, bytes.length, 0, bytes.length) === 0;
}

/** Runs of all-zero ZERO_BLOCKs in `bytes` at least ZERO_RUN_MIN long (or all of `bytes`), as ranges of it. */
export function zeroRuns(bytes: Uint8Array): ByteRange[] {
  const runs: ByteRange[] = [];
  let start = -1;
  const close = (end: number): void => {
    if (start >= 0 && (end - start >= ZERO_RUN_MIN || (start === 0 && end === bytes.length))) runs.push({ start, end });
    start = -1;
  };
  for (let at = 0; at < bytes.length; at += ZERO_BLOCK) {
    if (!isAllZero(bytes.subarray(at, Math.min(bytes.length, at + ZERO_BLOCK)))) close(at);
    else if (start < 0) start = at;
  }
  close(bytes.length);
  return runs;
}

/** Reads the card ahead of writing zeros, to find the places that need none. */
export class ZeroProbe {
  private readonly buffer: Buffer;
  private dirtyInARow = 0;
  /** Bytes that read zero already and were therefore not written. */
  unwrittenBytes = 0;

  constructor(
    private readonly target: TargetDevice,
    chunkBytes: number,
    private readonly log: (message: string) => void,
  ) {
    this.buffer = alignedBuffers(1, chunkBytes)[0] as Buffer;
  }

  /** False once the card has shown old data too often for reading first to pay. */
  get worthIt(): boolean {
    return this.dirtyInARow < DIRTY_IN_A_ROW;
  }

  /** Whether [start, start + length) of the card reads zero (length: block-aligned, at most one chunk). */
  async readsZero(start: number, length: number): Promise<boolean> {
    const got = await this.target.read(this.buffer.subarray(0, length), start);
    if (got === length && isAllZero(this.buffer.subarray(0, length))) {
      this.dirtyInARow = 0;
      this.unwrittenBytes += length;
      return true;
    }
    if (++this.dirtyInARow === DIRTY_IN_A_ROW) this.log(`the card holds old data (byte ${start} is not zero); writing zeros from here on without reading first`);
    return false;
  }
}
