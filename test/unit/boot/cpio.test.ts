import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gzippedNewcArchive, newcArchive } from '../../boot/cpio';
import { dir, file, symlink, withParents, type TreeEntry } from '../../boot/tree';

interface Parsed {
  readonly name: string;
  readonly mode: number;
  readonly data: Buffer;
  readonly rdev: readonly [number, number];
  readonly headerOffset: number;
}

// An independent reader of the newc layout, strict about magic, padding and the trailer.
function parseNewc(archive: Buffer): readonly Parsed[] {
  const out: Parsed[] = [];
  let offset = 0;
  for (;;) {
    expect(offset % 4).toBe(0);
    const header = archive.toString('ascii', offset, offset + 110);
    expect(header.slice(0, 6)).toBe('070701');
    const field = (index: number): number => parseInt(header.slice(6 + index * 8, 14 + index * 8), 16);
    const nameSize = field(11);
    const size = field(6);
    const name = archive.toString('utf8', offset + 110, offset + 110 + nameSize - 1);
    expect(archive[offset + 110 + nameSize - 1]).toBe(0);
    const dataStart = Math.ceil((offset + 110 + nameSize) / 4) * 4;
    if (name === 'TRAILER!!!') {
      expect(dataStart).toBe(archive.length);
      return out;
    }
    out.push({ name, mode: field(1), data: archive.subarray(dataStart, dataStart + size), rdev: [field(9), field(10)], headerOffset: offset });
    offset = Math.ceil((dataStart + size) / 4) * 4;
  }
}

describe('newc cpio writer', () => {
  const entries: readonly TreeEntry[] = withParents([
    file('bin/busybox', Buffer.from([1, 2, 3, 4, 5]), 0o755),
    symlink('bin/sh', 'busybox'),
    { kind: 'char-device', path: 'dev/console', mode: 0o600, major: 5, minor: 1 },
    file('init', '#!/bin/sh\n', 0o755),
    dir('newroot', 0o700),
  ]);

  it('writes every entry with its type, permissions, data and device numbers, 4-byte aligned', () => {
    const parsed = parseNewc(newcArchive(entries));
    expect(parsed.map((entry) => entry.name)).toEqual(['bin', 'bin/busybox', 'bin/sh', 'dev', 'dev/console', 'init', 'newroot']);
    const byName = new Map(parsed.map((entry) => [entry.name, entry]));
    expect(byName.get('bin')!.mode).toBe(0o040755);
    expect(byName.get('bin/busybox')!.mode).toBe(0o100755);
    expect([...byName.get('bin/busybox')!.data]).toEqual([1, 2, 3, 4, 5]);
    expect(byName.get('bin/sh')!.mode).toBe(0o120777);
    expect(byName.get('bin/sh')!.data.toString()).toBe('busybox');
    expect(byName.get('dev/console')!.mode).toBe(0o020600);
    expect(byName.get('dev/console')!.rdev).toEqual([5, 1]);
    expect(byName.get('newroot')!.mode).toBe(0o040700);
  });

  it('is reproducible and gzip round-trips', () => {
    const plain = newcArchive(entries);
    expect(newcArchive(entries).equals(plain)).toBe(true);
    expect(gunzipSync(gzippedNewcArchive(entries)).equals(plain)).toBe(true);
  });
});

describe('tree', () => {
  it('adds parents before children and refuses escapes and duplicates', () => {
    expect(withParents([file('a/b/c', 'x')]).map((entry) => entry.path)).toEqual(['a', 'a/b', 'a/b/c']);
    expect(() => withParents([file('/abs', 'x')])).toThrow(/relative/);
    expect(() => withParents([file('a/../b', 'x')])).toThrow(/inside/);
    expect(() => withParents([file('a', 'x'), file('a', 'y')])).toThrow(/twice/);
  });
});
