/**
 * Newline-delimited JSON framing for every pipe between Cardsmith processes (the GUI and the
 * privileged worker, the worker and its card jobs): bytes arrive in arbitrary chunks, a message
 * is one line. The splitter holds at most one partial line; a line longer than `maxLineBytes` is
 * dropped up to its newline (reported through `onTooLong`), so no peer can make another buffer
 * without bound, and one bad line does not end the channel.
 */
export interface LineSplitter {
  /** Feeds a chunk; returns the complete lines it finished (without the newline). */
  push(chunk: string): string[];
  /** The trailing text after the last newline, when the stream ends. */
  end(): string[];
}

export const MAX_LINE_BYTES = 1 << 20;

export function createLineSplitter(options: { maxLineBytes?: number; onTooLong?: (limit: number) => void } = {}): LineSplitter {
  const limit = options.maxLineBytes ?? MAX_LINE_BYTES;
  let pending = '';
  let skipping = false;
  const clean = (line: string): string => (line.endsWith('\r') ? line.slice(0, -1) : line);
  const tooLong = (): void => options.onTooLong?.(limit);
  return {
    push(chunk) {
      const parts = (pending + chunk).split('\n');
      pending = parts.pop() ?? '';
      const lines: string[] = [];
      for (const part of parts) {
        if (skipping) {
          skipping = false;
          continue;
        }
        if (part.length > limit) {
          tooLong();
          continue;
        }
        const line = clean(part);
        if (line.trim() !== '') lines.push(line);
      }
      if (pending.length > limit) {
        if (!skipping) tooLong();
        skipping = true;
        pending = '';
      }
      return lines;
    },
    end() {
      const rest = skipping ? '' : clean(pending);
      pending = '';
      skipping = false;
      return rest.trim() === '' ? [] : [rest];
    },
  };
}
