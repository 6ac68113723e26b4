/**
 * Newline-delimited JSON framing for the privileged worker's stdout: bytes arrive in arbitrary
 * chunks, a message is one line. The splitter holds at most one partial line, and refuses a line
 * longer than `maxLineBytes` so a misbehaving worker cannot make the GUI buffer without bound.
 */
export interface LineSplitter {
  /** Feeds a chunk; returns the complete lines it finished (without the newline). */
  push(chunk: string): string[];
  /** The trailing text after the last newline, when the stream ends. */
  end(): string[];
}

export class LineTooLongError extends Error {
  constructor(readonly limit: number) {
    super(`a worker message exceeded ${limit} characters without a newline`);
    this.name = 'LineTooLongError';
  }
}

export function createLineSplitter(maxLineBytes = 1 << 20): LineSplitter {
  let pending = '';
  const clean = (line: string): string => (line.endsWith('\r') ? line.slice(0, -1) : line);
  return {
    push(chunk) {
      const parts = (pending + chunk).split('\n');
      pending = parts.pop() ?? '';
      if (pending.length > maxLineBytes) throw new LineTooLongError(maxLineBytes);
      const lines: string[] = [];
      for (const part of parts) {
        if (part.length > maxLineBytes) throw new LineTooLongError(maxLineBytes);
        const line = clean(part);
        if (line.trim() !== '') lines.push(line);
      }
      return lines;
    },
    end() {
      const rest = clean(pending);
      pending = '';
      return rest.trim() === '' ? [] : [rest];
    },
  };
}
