import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, linkSync, writeFileSync, openSync, writeSync, closeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CardsmithError } from '../../../electron/engine/errors';
import { normaliseTarPath, readTar, type TarEntry } from '../../../electron/engine/sources/tar';
import { describeWith } from '../../helpers/needs';

async function* chunks(bytes: Uint8Array, size = 7777): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

interface Read {
  readonly entry: TarEntry;
  readonly content: Uint8Array;
}

/** `bytes` in pieces of one buffer that is overwritten when the next piece is taken. */
async function* reusedChunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(size);
  for (let i = 0; i < bytes.length; i += size) {
    const piece = bytes.subarray(i, i + size);
    buffer.fill(0xa5);
    buffer.set(piece);
    yield buffer.subarray(0, piece.length);
  }
}

async function readAll(bytes: Uint8Array, chunkSize?: number, input = chunks(bytes, chunkSize)): Promise<Map<string, Read>> {
  const out = new Map<string, Read>();
  for await (const entry of readTar(input)) {
    const content = new Uint8Array(entry.size);
    for await (const chunk of entry.body) content.set(chunk.data, chunk.offset);
    out.set(entry.path, { entry, content });
  }
  return out;
}

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function expectCorrupt(bytes: Uint8Array): Promise<CardsmithError> {
  try {
    await readAll(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(CardsmithError);
    expect((error as CardsmithError).info.cause).toBe('source-corrupt');
    expect(typeof (error as CardsmithError).info.details?.offset).toBe('number');
    return error as CardsmithError;
  }
  throw new Error('expected source-corrupt');
}

/** A minimal ustar header, for archives the tar command refuses to make (e.g. '..' names). */
function ustarHeader(name: string, type: string, size: number, link = ''): Uint8Array {
  const header = new Uint8Array(512);
  const put = (offset: number, text: string): void => header.set(new TextEncoder().encode(text), offset);
  put(0, name);
  put(100, '0000644\0');
  put(108, '0001750\0');
  put(116, '0001750\0');
  put(124, `${size.toString(8).padStart(11, '0')}\0`);
  put(136, '00000000000\0');
  put(148, '        ');
  put(156, type);
  put(157, link);
  put(257, 'ustar\0');
  put(263, '00');
  let sum = 0;
  for (const byte of header) sum += byte;
  put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  return header;
}

function archive(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + Math.ceil(p.length / 512) * 512, 0) + 1024;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += Math.ceil(part.length / 512) * 512;
  }
  return out;
}

describeWith(['tool:tar', 'tool:setfattr', 'tool:mkfifo'], 'readTar on archives made by GNU tar', () => {
  let dir: string;
  const longDir = `${'d'.repeat(120)}/${'e'.repeat(120)}`;
  const longFile = `${longDir}/${'f'.repeat(200)}`;
  const unicode = 'ünïcødé-文件-🙂.txt';
  const random = new Uint8Array(300_001).map((_, i) => (i * 2654435761) >>> 24);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cardsmith-tar-'));
    const root = join(dir, 'root');
    mkdirSync(join(root, longDir), { recursive: true });
    writeFileSync(join(root, longFile), 'long name\n');
    writeFileSync(join(root, unicode), 'unicode\n');
    writeFileSync(join(root, 'random.bin'), random);
    writeFileSync(join(root, 'empty'), '');
    symlinkSync('random.bin', join(root, 'short-link'));
    symlinkSync('t'.repeat(150), join(root, 'long-link'));
    linkSync(join(root, 'random.bin'), join(root, 'hard'));
    execFileSync('mkfifo', [join(root, 'pipe')]);
    execFileSync('setfattr', ['-n', 'user.comment', '-v', 'hello', join(root, 'random.bin')]);
    // A sparse file: 64 KiB of data at 1 MiB and at 3 MiB, 4 MiB apparent size.
    const fd = openSync(join(root, 'sparse'), 'w');
    writeSync(fd, random.subarray(0, 65536), 0, 65536, 1 << 20);
    writeSync(fd, random.subarray(0, 65536), 0, 65536, 3 << 20);
    ftruncateSync(fd, 4 << 20);
    closeSync(fd);
    const make = (name: string, ...args: string[]): void => {
      execFileSync('tar', ['-C', root, '--numeric-owner', '--owner=1234', '--group=5678', '-cf', join(dir, name), ...args, '.']);
    };
    make('pax.tar', '--format=pax', '--xattrs', '--xattrs-include=*', '--sparse');
    make('pax01.tar', '--format=pax', '--sparse', '--sparse-version=0.1');
    make('pax00.tar', '--format=pax', '--sparse', '--sparse-version=0.0');
    make('gnu.tar', '--format=gnu', '--sparse');
    make('ustar.tar', '--format=ustar', `--exclude=./${longDir.split('/')[0]}`, '--exclude=./long-link');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const format of ['pax', 'pax01', 'pax00', 'gnu']) {
    it(`reads every entry kind from a ${format} archive`, async () => {
      const entries = await readAll(readFileSync(join(dir, `${format}.tar`)));
      expect(entries.get('')?.entry.kind).toBe('dir');
      expect(entries.get(longFile)?.entry.kind).toBe('file');
      expect(new TextDecoder().decode(entries.get(longFile)?.content)).toBe('long name\n');
      expect(new TextDecoder().decode(entries.get(unicode)?.content)).toBe('unicode\n');
      // Whichever of the two names tar met first holds the data; the other links to it.
      const [first, second] = entries.get('random.bin')?.entry.kind === 'file' ? ['random.bin', 'hard'] : ['hard', 'random.bin'];
      const rnd = entries.get(first);
      expect(rnd?.entry.uid).toBe(1234);
      expect(rnd?.entry.gid).toBe(5678);
      expect(rnd?.entry.mode).toBe(0o644);
      expect(sha(rnd?.content ?? new Uint8Array())).toBe(sha(random));
      expect(entries.get('empty')?.entry.size).toBe(0);
      expect(entries.get('short-link')?.entry).toMatchObject({ kind: 'symlink', linkTarget: 'random.bin' });
      expect(entries.get('long-link')?.entry).toMatchObject({ kind: 'symlink', linkTarget: 't'.repeat(150) });
      expect(entries.get(second)?.entry).toMatchObject({ kind: 'hardlink', linkTarget: first });
      expect(entries.get('pipe')?.entry.kind).toBe('fifo');

      const sparse = entries.get('sparse');
      expect(sparse?.entry.size).toBe(4 << 20);
      const expected = new Uint8Array(4 << 20);
      expected.set(random.subarray(0, 65536), 1 << 20);
      expected.set(random.subarray(0, 65536), 3 << 20);
      expect(sha(sparse?.content ?? new Uint8Array())).toBe(sha(expected));
      const mapped = (sparse?.entry.sparseMap ?? []).reduce((n, s) => n + s.length, 0);
      expect(mapped).toBe(2 * 65536);
    });
  }

  it('reads the same entries from a source that reuses one buffer for every chunk', async () => {
    const summary = (entries: Map<string, Read>): unknown[] =>
      [...entries.values()].map(({ entry: { body: _body, xattrs, ...fields }, content }) => ({ ...fields, xattrs: [...xattrs], sha: sha(content) }));
    for (const format of ['pax', 'pax01', 'pax00', 'gnu', 'ustar']) {
      const bytes = readFileSync(join(dir, `${format}.tar`));
      const fresh = summary(await readAll(bytes));
      // 1000: headers often straddle two chunks; 4608: whole headers and records inside one.
      for (const size of [1000, 4608]) expect(summary(await readAll(bytes, size, reusedChunks(bytes, size)))).toEqual(fresh);
    }
  });

  it('reads pax xattrs and fractional mtimes', async () => {
    const entries = await readAll(readFileSync(join(dir, 'pax.tar')));
    const rnd = [entries.get('random.bin')?.entry, entries.get('hard')?.entry].find((e) => e?.kind === 'file');
    expect(new TextDecoder().decode(rnd?.xattrs.get('user.comment'))).toBe('hello');
    expect(rnd?.mtime).toBeGreaterThan(1_000_000_000);
  });

  it('reads plain ustar with prefix-split names', async () => {
    const entries = await readAll(readFileSync(join(dir, 'ustar.tar')), 512);
    const sizes = ['random.bin', 'hard'].map((name) => entries.get(name)?.content.length);
    expect(sizes.sort()).toEqual([0, random.length]);
    expect(entries.has(unicode)).toBe(true);
  });

  it('skips bodies left unread and refuses to read them late', async () => {
    const iterator = readTar(chunks(readFileSync(join(dir, 'pax.tar'))));
    const seen: TarEntry[] = [];
    for await (const entry of iterator) seen.push(entry);
    expect(seen.length).toBeGreaterThan(10);
    const file = seen.find((e) => e.kind === 'file' && e.size > 0);
    expect(file).toBeDefined();
    await expect(async () => {
      for await (const chunk of file?.body ?? []) void chunk;
    }).rejects.toThrow(/after the next entry/);
  });

  it('names the offset of a corrupted header checksum', async () => {
    const bytes = Uint8Array.from(readFileSync(join(dir, 'gnu.tar')));
    bytes.set([0x55 ^ (bytes[10] ?? 0)], 10);
    const error = await expectCorrupt(bytes);
    expect(error.info.details?.offset).toBe(0);
    expect(error.message).toMatch(/checksum/);
  });

  it('rejects truncated archives', async () => {
    const bytes = readFileSync(join(dir, 'pax.tar'));
    await expectCorrupt(bytes.subarray(0, 4096 + 100));
    const cut = await expectCorrupt(bytes.subarray(0, bytes.length / 2));
    expect(cut.message).toMatch(/truncated|end-of-archive/);
  });
});

// Only making device nodes needs root.
describeWith(['root', 'tool:tar', 'tool:mknod'], 'readTar on device nodes made by GNU tar', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cardsmith-tar-dev-'));
    const root = join(dir, 'root');
    mkdirSync(root);
    execFileSync('mknod', [join(root, 'null'), 'c', '1', '3']);
    execFileSync('mknod', [join(root, 'loop9'), 'b', '7', '9']);
    for (const format of ['pax', 'gnu', 'ustar']) execFileSync('tar', ['-C', root, `--format=${format}`, '-cf', join(dir, `${format}.tar`), '.']);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const format of ['pax', 'gnu', 'ustar']) {
    it(`reads character and block devices with their numbers from a ${format} archive`, async () => {
      const entries = await readAll(readFileSync(join(dir, `${format}.tar`)));
      expect(entries.get('null')?.entry).toMatchObject({ kind: 'char', devMajor: 1, devMinor: 3 });
      expect(entries.get('loop9')?.entry).toMatchObject({ kind: 'block', devMajor: 7, devMinor: 9 });
    });
  }
});

describeWith([], 'readTar path safety', () => {
  it('keeps absolute and .. names inside the root', async () => {
    const data = new TextEncoder().encode('x');
    const bytes = archive([
      ustarHeader('../../etc/passwd', '0', 1),
      data,
      ustarHeader('/abs/./file', '0', 1),
      data,
      ustarHeader('a/../../../b', '1', 0, '../../abs/file'),
    ]);
    const entries = await readAll(bytes);
    expect([...entries.keys()]).toEqual(['etc/passwd', 'abs/file', 'b']);
    expect(entries.get('b')?.entry.linkTarget).toBe('abs/file');
  });

  it('normalises paths', () => {
    expect(normaliseTarPath('./')).toBe('');
    expect(normaliseTarPath('/')).toBe('');
    expect(normaliseTarPath('a//b/./c/')).toBe('a/b/c');
    expect(normaliseTarPath('..')).toBe('');
  });

  it('rejects an archive without an end marker and garbage', async () => {
    const bytes = archive([ustarHeader('f', '0', 1), new Uint8Array([1])]);
    await expectCorrupt(bytes.subarray(0, 1024));
    await expectCorrupt(new Uint8Array(512).fill(0x41));
  });
});
