import { describe, expect, it } from 'vitest';
import { createLineSplitter, LineTooLongError } from '../../../electron/main/ndjson';

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

  it('refuses a line that never ends instead of buffering it forever', () => {
    const splitter = createLineSplitter(16);
    expect(splitter.push('0123456789')).toEqual([]);
    expect(() => splitter.push('0123456789')).toThrow(LineTooLongError);
    expect(() => createLineSplitter(4).push('12345\n')).toThrow(/4 characters/);
  });
});
