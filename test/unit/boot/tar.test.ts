import { describe, expect, it } from 'vitest';
import { ustarArchive } from '../../boot/tar';
import { file, symlink, withParents } from '../../boot/tree';

function checksumOk(header: Buffer): boolean {
  const copy = Buffer.from(header);
  copy.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of copy) sum += byte;
  return parseInt(header.toString('ascii', 148, 154), 8) === sum;
}

describe('ustar writer', () => {
  it('writes 512-byte headers with valid checksums, padded data and two zero blocks at the end', () => {
    const archive = ustarArchive(withParents([file('sbin/init', 'hello\n', 0o755), symlink('bin/sh', 'busybox')]));
    expect(archive.length % 512).toBe(0);
    const headers = [0, 512, 1536, 2048].map((offset) => archive.subarray(offset, offset + 512));
    expect(headers.map((header) => header.toString('ascii', 0, 100).replace(/\0+$/, ''))).toEqual(['sbin/', 'sbin/init', 'bin/', 'bin/sh']);
    expect(headers.every(checksumOk)).toBe(true);
    expect(headers.map((header) => header.toString('ascii', 156, 157))).toEqual(['5', '0', '5', '2']);
    expect(headers[0]!.toString('ascii', 257, 265)).toBe('ustar\u000000');
    expect(archive.toString('ascii', 1024, 1030)).toBe('hello\n');
    expect(parseInt(headers[1]!.toString('ascii', 124, 135), 8)).toBe(6);
    expect(parseInt(headers[1]!.toString('ascii', 100, 107), 8)).toBe(0o755);
    expect(headers[3]!.toString('ascii', 157, 164)).toBe('busybox');
    expect(archive.subarray(archive.length - 1024).every((byte) => byte === 0)).toBe(true);
  });

  it('splits long paths into prefix and name and refuses what ustar cannot hold', () => {
    const deep = `${'d'.repeat(80)}/${'e'.repeat(60)}/file`;
    const header = ustarArchive([file(deep, 'x')]).subarray(0, 512);
    expect(header.toString('ascii', 345, 345 + 80)).toBe('d'.repeat(80));
    expect(header.toString('ascii', 0, 65)).toBe(`${'e'.repeat(60)}/file`);
    expect(() => ustarArchive([file('f'.repeat(120), 'x')])).toThrow(/cannot be stored/);
  });
});
