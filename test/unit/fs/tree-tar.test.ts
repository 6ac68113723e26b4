import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CardsmithError } from '../../../electron/engine/errors';
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

/** Drops the first ustar entry (header + one data block for a 1-byte file). */
function withoutFirstEntry(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(1024);
}
