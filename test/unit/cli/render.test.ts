import { describe, expect, it } from 'vitest';
import { formatBytes, formatError, humanRenderer, progressLine } from '../../../electron/cli/render';

describe('human rendering', () => {
  it('formats sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(150.5 * 1024 ** 2)).toBe('151 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3 GiB');
  });

  it('draws a proportional bar with speed and ETA', () => {
    const line = progressLine('write', 512 * 1024 ** 2, 1024 ** 3, 64 * 1024 ** 2, 8.2);
    expect(line).toContain(`[${'#'.repeat(15)}${'-'.repeat(15)}]`);
    expect(line).toContain(' 50%');
    expect(line).toContain('64 MiB/s');
    expect(line).toContain('ETA 9s');
    expect(progressLine('fetch', 2048, null, 1024, null)).toBe('fetch      2 KiB  1 KiB/s');
  });

  it('says which side limits the write', () => {
    expect(progressLine('write', 2048, null, 1024, null, 'card')).toBe('write      2 KiB  1 KiB/s (limited by the card)');
    expect(progressLine('write', 2048, null, 1024, null, 'source')).toBe('write      2 KiB  1 KiB/s (limited by the source)');
  });

  it('prints errors with cause, details and what to try', () => {
    const text = formatError({ cause: 'io', message: 'I/O error at byte 4096', hint: 'Try another reader.', details: { offset: 4096 } });
    expect(text.split('\n')).toEqual(['error (io): I/O error at byte 4096', '  details: {"offset":4096}', '  try: Try another reader.']);
  });

  it('redraws progress in place on a terminal and clears it before other lines', () => {
    let written = '';
    const stream = { isTTY: true, write: (s: string) => ((written += s), true) } as unknown as NodeJS.WriteStream;
    const renderer = humanRenderer(stream);
    renderer.onEvent({ type: 'progress', phase: 'write', bytesDone: 1, bytesTotal: 2, bytesPerSecond: 1, etaSeconds: 1 });
    renderer.onEvent({ type: 'log', level: 'warn', message: 'card is larger than 128 GB' });
    expect(written.startsWith('\r\x1b[2Kwrite')).toBe(true);
    expect(written.endsWith('\r\x1b[2Kwarn: card is larger than 128 GB\n')).toBe(true);
  });
});
