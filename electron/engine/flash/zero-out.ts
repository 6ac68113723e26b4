/**
 * Holes on a real card: the unmapped ranges of a sparse image must read as zeros afterwards, but
 * writing zeros over most of a 64 GB card moves 64 GB through the USB reader. On Linux,
 * `blkdiscard --zeroout` issues BLKZEROOUT, which lets the device (or the kernel, with
 * write-zeroes or a zero page) zero the range without the data travelling from this process;
 * unlike a plain discard it guarantees zeros on read. Large holes go that way in steps (so a
 * cancel is seen within a step); when the tool is missing, the target is not a block device or the
 * call fails, the caller falls back to writing zeros.
 */
import { statSync } from 'node:fs';
import { runTool, which } from '../tools';

/** Holes shorter than this are cheaper to write than to hand to a separate process. */
export const ZEROOUT_MIN_BYTES = 32 << 20;
/** One blkdiscard call covers at most this much, so cancel is checked between steps. */
const ZEROOUT_STEP_BYTES = 1 << 30;
/** blkdiscard needs offsets aligned to the logical block size; 4 KiB covers 512e and 4Kn cards. */
const ZEROOUT_ALIGN = 4096;

export interface ZeroOut {
  /**
   * Zeros as much of [start, end) as it can by BLKZEROOUT; returns the aligned sub-range it
   * zeroed (the caller writes zeros over the rest), or null when it zeroed nothing.
   */
  (start: number, end: number, check: () => void): Promise<{ start: number; end: number } | null>;
}

/** A zero-out for `device`, or null when this platform or target cannot do it. */
export function deviceZeroOut(device: string, log: (message: string) => void): ZeroOut | null {
  const tool = process.platform === 'linux' ? which('blkdiscard') : null;
  if (!tool) return null;
  try {
    if (!statSync(device).isBlockDevice()) return null;
  } catch {
    return null;
  }
  let broken = false;
  return async (start, end, check) => {
    const from = Math.ceil(start / ZEROOUT_ALIGN) * ZEROOUT_ALIGN;
    const to = Math.floor(end / ZEROOUT_ALIGN) * ZEROOUT_ALIGN;
    if (broken || to - from < ZEROOUT_MIN_BYTES) return null;
    let at = from;
    while (at < to) {
      check();
      const length = Math.min(ZEROOUT_STEP_BYTES, to - at);
      try {
        // --force: this process already holds the card O_EXCL, which blkdiscard's own open would refuse.
        await runTool(tool, ['--force', '--zeroout', '--offset', String(at), '--length', String(length), device]);
      } catch (error) {
        broken = true;
        log(`blkdiscard --zeroout failed on ${device} at byte ${at} (${(error as Error).message}); writing zeros instead`);
        return at > from ? { start: from, end: at } : null;
      }
      at += length;
    }
    return { start: from, end: to };
  };
}
