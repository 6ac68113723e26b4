import { describe, expect, it } from 'vitest';
import { createLineSplitter } from '../../../electron/engine/ndjson';

describe('NDJSON line splitter', () => {
  it('reassembles lines across arbitrary chunk boundaries', () => {
    const text = '{"a":1}\n{"b":"ü"}\r\n\n{"c":3}\n{"tail":true}';
    for (let size = 1; size <= text.length; size += 1) {
      const splitter = createLineSplitter();
      const lines: string[] = [];
      for (let at = 0; at < text.length; at += size) lines.push(...splitter.push(text.slice(at, at + size)));
      lines.push(...splitter.end());
      expect(lines, `chunk size ${size}`).toEqual(['{"a":1}', '{"b":"ü"}', '{"c":3}', '{"tail":true}']);
    }
  });

  it('drops a line longer than the limit, in any chunking, and keeps the lines around it', () => {
    const text = `first\n${'x'.repeat(40)}\nlast\n${'y'.repeat(40)}`;
    for (let size = 1; size <= text.length; size += 7) {
      let dropped = 0;
      const splitter = createLineSplitter({ maxLineBytes: 16, onTooLong: () => (dropped += 1) });
      const lines: string[] = [];
      for (let at = 0; at < text.length; at += size) lines.push(...splitter.push(text.slice(at, at + size)));
      lines.push(...splitter.end());
      expect(lines, `chunk size ${size}`).toEqual(['first', 'last']);
      expect(dropped, `chunk size ${size}`).toBe(2);
    }
  });
});
