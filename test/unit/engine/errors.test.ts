import { open } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CardsmithError, classifyOsError, isNetworkFailure, osErrorCause, toErrorInfo, type OsErrorContext } from '../../../electron/engine/errors';
import { deviceError } from '../../../electron/engine/flash/device';
import { startTool } from '../../../electron/engine/sources/decompress';
import { withRetries } from '../../../electron/engine/sources/http';

const osError = (code: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(`${code}: something`), { code, ...extra });

describe('one OS-error classifier, by context', () => {
  const table: [string, OsErrorContext['kind'], string][] = [
    ['ENOSPC', 'file', 'no-space'],
    ['ENOSPC', 'device', 'too-small'],
    ['ENOSPC', 'socket', 'no-space'],
    ['ENOENT', 'file', 'bad-input'],
    ['ENOENT', 'device', 'device-gone'],
    ['ENOENT', 'tool', 'missing-tool'],
    ['ENOMEDIUM', 'device', 'device-gone'],
    ['EACCES', 'file', 'permission'],
    ['EACCES', 'device', 'permission'],
    ['EBUSY', 'device', 'busy'],
    ['EIO', 'device', 'io'],
    ['EIO', 'file', 'io'],
    ['ECONNRESET', 'socket', 'network'],
    ['ENOTFOUND', 'socket', 'network'],
    ['EAI_AGAIN', 'socket', 'network'],
    ['ECONNRESET', 'file', 'io'],
  ];
  it.each(table)('%s on a %s is %s', (code, kind, cause) => {
    expect(osErrorCause(code, kind)).toBe(cause);
  });

  it('names the path of a missing file, and does not ask to reinsert a card', async () => {
    const error = await open('/nonexistent/cardsmith/image.img', 'r').catch((e: unknown) => e);
    const info = toErrorInfo(error);
    expect(info).toMatchObject({ cause: 'bad-input', message: 'File not found: /nonexistent/cardsmith/image.img (ENOENT)', details: { path: '/nonexistent/cardsmith/image.img' } });
    expect(info.hint).not.toMatch(/[Rr]einsert/);
  });

  it('names the tool that is not installed (ENOENT from spawn)', async () => {
    const tool = startTool('cardsmith-no-such-decoder', ['-dc'], 'pipe');
    const error = await tool.exited.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CardsmithError);
    expect((error as CardsmithError).info).toMatchObject({ cause: 'missing-tool', details: { tool: 'cardsmith-no-such-decoder' } });
    expect((error as CardsmithError).message).toMatch(/^cardsmith-no-such-decoder is not installed/);
    expect(toErrorInfo(osError('ENOENT', { syscall: 'spawn lsblk', path: 'lsblk' }))).toMatchObject({ cause: 'missing-tool', details: { tool: 'lsblk' } });
  });


  it('keeps the device messages with the byte offset', () => {
    const full = deviceError(osError('ENOSPC'), 'writing', '/dev/sdx', 4096, 512);
    expect(full.info).toMatchObject({ cause: 'too-small', message: '/dev/sdx ended at byte 4096: the card is smaller than the image (ENOSPC)', details: { device: '/dev/sdx', offset: 4096, length: 512 } });
    expect(deviceError(osError('ENOENT'), 'opening', '/dev/sdx').info).toMatchObject({ cause: 'device-gone', message: '/dev/sdx disappeared while opening (ENOENT)' });
  });

  it('a full disk while writing the cache is no-space, not network', () => {
    const error = classifyOsError(osError('ENOSPC'), { kind: 'file', path: '/cache/partial/x.part', action: 'writing' });
    expect(error.info).toMatchObject({ cause: 'no-space', message: 'No space left on the disk while writing /cache/partial/x.part (ENOSPC)' });
    expect(isNetworkFailure(error)).toBe(false);
    expect(isNetworkFailure(osError('ENOSPC'))).toBe(false);
    expect(isNetworkFailure(osError('ENOENT'))).toBe(false);
    expect(isNetworkFailure(osError('ECONNRESET'))).toBe(true);
    expect(isNetworkFailure(osError('CERT_HAS_EXPIRED'))).toBe(true);
    expect(isNetworkFailure(osError('HPE_INVALID_CONSTANT'))).toBe(true);
    expect(isNetworkFailure(osError('ERR_INVALID_ARG_TYPE'))).toBe(false);
    expect(toErrorInfo(osError('ECONNREFUSED', { syscall: 'connect' }))).toMatchObject({ cause: 'network', message: 'ECONNREFUSED: something' });
  });

  it('retries only socket failures', async () => {
    const policy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 };
    let attempts = 0;
    const local = await withRetries({ verb: 'fetching', url: 'x' }, policy, undefined, () => {
      attempts++;
      throw osError('ENOSPC', { path: '/cache/objects/a' });
    }).catch((e: unknown) => e);
    expect(attempts).toBe(1);
    expect(toErrorInfo(local)).toMatchObject({ cause: 'no-space', details: { path: '/cache/objects/a' } });
    attempts = 0;
    const remote = await withRetries({ verb: 'fetching', url: 'x' }, policy, undefined, () => {
      attempts++;
      throw osError('ECONNRESET');
    }).catch((e: unknown) => e);
    expect(attempts).toBe(3);
    expect(toErrorInfo(remote).cause).toBe('network');
  });
});
