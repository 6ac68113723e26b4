/**
 * Device numbers as each OS encodes them, and the account line of the user the elevated part
 * works for as Linux (getent) and macOS (id -P) print it.
 */
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { blockDeviceKey, devKey, splitDevNumber } from '../../../electron/engine/drives/identity';
import { parsePasswdLine } from '../../../electron/engine/elevated/invoking-user';

describe('device numbers', () => {
  it('splits glibc’s dev_t on Linux, small and large numbers alike', () => {
    expect(devKey(splitDevNumber(2064n, 'linux'))).toBe('8:16');
    expect(devKey(splitDevNumber(66305n, 'linux'))).toBe('259:1');
    // makedev(8, 300): the minor's high bits sit above the major's
    expect(devKey(splitDevNumber((300n & 0xffn) | (8n << 8n) | ((300n & ~0xffn) << 12n), 'linux'))).toBe('8:300');
  });

  it('splits the BSD dev_t on macOS (major in the top 8 bits)', () => {
    expect(devKey(splitDevNumber((1n << 24n) | 4n, 'darwin'))).toBe('1:4');
    expect(devKey(splitDevNumber((14n << 24n) | 0x10203n, 'darwin'))).toBe('14:66051');
  });

  it('takes a character device for a disk on macOS only (the raw /dev/rdiskN node)', () => {
    const stats = statSync('/dev/null', { bigint: true });
    expect(blockDeviceKey(stats, 'linux')).toBeNull();
    expect(blockDeviceKey(stats, 'darwin')).toMatch(/^\d+:\d+$/);
  });
});

describe('the invoking user’s account line', () => {
  it('reads getent’s passwd line and macOS id -P’s master.passwd line alike', () => {
    expect(parsePasswdLine('ada:x:1000:1000:Ada,,,:/home/ada:/bin/bash\n')).toEqual({ name: 'ada', uid: 1000, gid: 1000, home: '/home/ada' });
    expect(parsePasswdLine('ada:********:501:20::0:0:Ada Lovelace:/Users/ada:/bin/zsh\n')).toEqual({ name: 'ada', uid: 501, gid: 20, home: '/Users/ada' });
  });

  it('refuses lines of any other shape', () => {
    for (const bad of ['', 'ada:x:1000', 'ada:x:1000:1000:/home/ada:/bin/sh', 'ada:x:one:1000::/home/ada:/bin/sh', ':x:1:1::/:/bin/sh']) expect(parsePasswdLine(bad), bad).toBeNull();
  });
});
