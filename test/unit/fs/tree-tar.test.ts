import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CardsmithError } from '../../../electron/engine/errors';
import { openRootfs } from '../../../electron/engine/fs/rootfs';
import type { FileNode } from '../../../electron/engine/fs/tree';
import { treeFromTar } from '../../../electron/engine/fs/tree-tar';
import { describeWith } from '../../helpers/needs';

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

describeWith(['tool:tar'], 'treeFromTar', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cardsmith-tree-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lets a later entry replace an earlier one and streams only the survivor', async () => {
    const root = join(dir, 'replace');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'motd'), 'old\n');
    const tar = join(dir, 'replace.tar');
    execFileSync('tar', ['-C', root, '-cf', tar, 'etc']);
    writeFileSync(join(root, 'etc', 'motd'), 'newer content\n');
    execFileSync('tar', ['-C', root, '-rf', tar, 'etc/motd']);
    const bytes = readFileSync(tar);
    const source = await treeFromTar(() => once(bytes), { defaultMtime: 0 });
    const etc = source.tree.root.entries.get('etc');
    expect(etc?.kind).toBe('dir');
    const motd = etc?.kind === 'dir' ? (etc.entries.get('motd') as FileNode) : null;
    expect(motd?.size).toBe(14);
    expect(source.tree.files).toEqual([motd]);
    const seen: string[] = [];
    for await (const { file, chunks } of source.contents()) {
      expect(file).toBe(motd);
      for await (const chunk of chunks) seen.push(Buffer.from(chunk.data).toString());
    }
    expect(seen.join('')).toBe('newer content\n');
  });

  it('reads a plain tarball through reused buffers with the same contents as from one chunk', async () => {
    // Files of odd sizes around the 1 MiB read size, so bodies and headers straddle reads and
    // each of the three buffers is reused many times.
    const root = join(dir, 'reuse');
    mkdirSync(root, { recursive: true });
    for (let i = 0; i < 40; i++) {
      const bytes = new Uint8Array(((i * 104729) % (1536 * 1024)) + i).map((_, j) => (j * 31 + i * 7) & 0xff);
      writeFileSync(join(root, `f${i}`), bytes);
    }
    const tar = join(dir, 'reuse.tar');
    execFileSync('tar', ['-C', root, '-cf', tar, '.']);
    const digests = async (contents: AsyncIterable<{ file: FileNode; chunks: AsyncIterable<{ offset: number; data: Uint8Array }> }>): Promise<string[]> => {
      const out: string[] = [];
      for await (const { file, chunks } of contents) {
        const hash = createHash('sha256');
        let at = 0;
        for await (const chunk of chunks) {
          expect(chunk.offset).toBe(at);
          hash.update(chunk.data);
          at += chunk.data.length;
        }
        out.push(`${file.size}:${hash.digest('hex')}`);
      }
      return out;
    };
    const reused = await openRootfs(tar, { defaultMtime: 0 });
    const whole = await treeFromTar(() => once(readFileSync(tar)), { defaultMtime: 0 });
    const expected = await digests(whole.contents());
    expect(expected).toHaveLength(40);
    expect(await digests(reused.contents())).toEqual(expected);
  });

  it('creates implied parents and rejects hard links to missing targets', async () => {
    const root = join(dir, 'implied');
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    writeFileSync(join(root, 'a', 'b', 'f'), 'x');
    const tar = join(dir, 'implied.tar');
    execFileSync('tar', ['-C', root, '--no-recursion', '-cf', tar, 'a/b/f']);
    const source = await treeFromTar(() => once(readFileSync(tar)), { defaultMtime: 1234 });
    const a = source.tree.root.entries.get('a');
    expect(a).toMatchObject({ kind: 'dir', mode: 0o755, uid: 0, mtime: 1234 });

    writeFileSync(join(root, 'a', 'g'), 'x');
    execFileSync('ln', ['-f', join(root, 'a', 'b', 'f'), join(root, 'a', 'g')]);
    const reversed = join(dir, 'reversed.tar');
    execFileSync('tar', ['-C', root, '-cf', reversed, 'a/g', 'a/b/f']);
    // tar stores the second name as a link to the first, so dropping the first breaks it.
    const truncated = Uint8Array.from(readFileSync(reversed));
    const failure = await treeFromTar(
      () => once(withoutFirstEntry(truncated)),
      { defaultMtime: 0 },
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(CardsmithError);
    expect((failure as CardsmithError).info.details?.path).toBe('a/b/f');
  });
});

/** A tarball written by Python's tarfile, which stores names verbatim ('../' included). */
function pythonTar(path: string, script: string): Uint8Array {
  execFileSync('python3', ['-c', `import io, tarfile\nt = tarfile.open(${JSON.stringify(path)}, 'w', format=tarfile.PAX_FORMAT)\n${script}\nt.close()`]);
  return readFileSync(path);
}

const PY_HELPERS = [
  'def add(name, data=None, kind=tarfile.REGTYPE):',
  '    info = tarfile.TarInfo(name); info.type = kind; info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644',
  '    info.size = len(data) if data else 0',
  '    t.addfile(info, io.BytesIO(data) if data else None)',
].join('\n');

describeWith(['tool:python3', 'tool:tar'], 'treeFromTar reports what building changes', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cardsmith-tree-warn-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reports names whose '..' climbs above the root, with the path and where it was placed", async () => {
    const bytes = pythonTar(join(dir, 'climb.tar'), `${PY_HELPERS}\nadd('etc', kind=tarfile.DIRTYPE)\nadd('../etc/escaped', b'x')\nadd('/../../root/deep', b'y')\nadd('usr/../etc/inside', b'z')`);
    const source = await treeFromTar(() => once(bytes), { defaultMtime: 0 });
    const etc = source.tree.root.entries.get('etc');
    expect(etc?.kind === 'dir' && [...etc.entries.keys()].sort()).toEqual(['escaped', 'inside']);
    expect(source.warnings.count).toBe(2);
    expect(source.warnings.messages[0]).toMatch(/^"\.\.\/etc\/escaped" \(entry at byte \d+\) climbs above the root with '\.\.'; placed at "etc\/escaped"$/);
    expect(source.warnings.messages[1]).toMatch(/^"\/\.\.\/\.\.\/root\/deep" .* placed at "root\/deep"$/);
  });

  it('reports a file later replaced by a directory of the same name (tar -r), and a path through a file', async () => {
    const root = join(dir, 'swap');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'conf'), 'a file first\n');
    const tar = join(dir, 'swap.tar');
    execFileSync('tar', ['-C', root, '-cf', tar, 'etc']);
    rmSync(join(root, 'etc', 'conf'));
    mkdirSync(join(root, 'etc', 'conf'));
    writeFileSync(join(root, 'etc', 'conf', 'part'), 'then a directory\n');
    execFileSync('tar', ['-C', root, '-rf', tar, 'etc/conf']);
    const source = await treeFromTar(() => once(readFileSync(tar)), { defaultMtime: 0 });
    expect(source.warnings.count).toBe(1);
    expect(source.warnings.messages[0]).toMatch(/^"etc\/conf": the file from an earlier entry is replaced by the directory of entry "etc\/conf\/" at byte \d+; the earlier one is dropped$/);

    const implied = pythonTar(join(dir, 'through.tar'), `${PY_HELPERS}\nadd('opt', b'file')\nadd('opt/tool/bin', b'x')`);
    const through = await treeFromTar(() => once(implied), { defaultMtime: 0 });
    expect(through.warnings.messages).toEqual([expect.stringMatching(/^"opt": the file from an earlier entry is replaced by a directory implied by the path of entry "opt\/tool\/bin"/)]);
  });

  it('says nothing for an ordinary archive: a file updated by a later file, a directory listed twice', async () => {
    const bytes = pythonTar(join(dir, 'plain.tar'), `${PY_HELPERS}\nadd('etc', kind=tarfile.DIRTYPE)\nadd('etc/motd', b'old')\nadd('etc', kind=tarfile.DIRTYPE)\nadd('etc/motd', b'new')\nadd('./etc/../etc/x', b'x')`);
    const source = await treeFromTar(() => once(bytes), { defaultMtime: 0 });
    expect(source.warnings).toEqual({ count: 0, messages: [] });
  });
});

/** Drops the first ustar entry (header + one data block for a 1-byte file). */
function withoutFirstEntry(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(1024);
}
