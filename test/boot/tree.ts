/**
 * A file tree as archive writers see it: an ordered list of entries (folders, files, symlinks,
 * device nodes) with POSIX permission bits, always owned by root. The initramfs (cpio) and the
 * root filesystem (tar) of the boot tests are both built from such a list, so neither needs a
 * scratch folder on the host nor root to create /dev/console.
 */

export type TreeEntry =
  | { readonly kind: 'dir'; readonly path: string; readonly mode: number }
  | { readonly kind: 'file'; readonly path: string; readonly mode: number; readonly data: Buffer }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | { readonly kind: 'char-device'; readonly path: string; readonly mode: number; readonly major: number; readonly minor: number };

/** Every entry gets this modification time, so archives are byte-for-byte reproducible. */
export const TREE_MTIME = 1_700_000_000;

export function dir(path: string, mode = 0o755): TreeEntry {
  return { kind: 'dir', path, mode };
}

export function file(path: string, data: Buffer | string, mode = 0o644): TreeEntry {
  return { kind: 'file', path, mode, data: typeof data === 'string' ? Buffer.from(data) : data };
}

export function symlink(path: string, target: string): TreeEntry {
  return { kind: 'symlink', path, target };
}

/**
 * Adds the missing parent folders of every entry (before their first child) and rejects
 * duplicate or absolute paths: an archive with `a/b` but no `a` extracts with surprising owners.
 */
export function withParents(entries: readonly TreeEntry[]): readonly TreeEntry[] {
  const seen = new Set<string>();
  const out: TreeEntry[] = [];
  for (const entry of entries) {
    if (entry.path.startsWith('/') || entry.path === '' || entry.path.split('/').includes('..')) {
      throw new Error(`tree path "${entry.path}" must be relative and stay inside the tree`);
    }
    const parts = entry.path.split('/');
    for (let i = 1; i < parts.length; i += 1) {
      const parent = parts.slice(0, i).join('/');
      if (!seen.has(parent)) {
        seen.add(parent);
        out.push(dir(parent));
      }
    }
    if (seen.has(entry.path)) {
      if (entry.kind === 'dir') continue;
      throw new Error(`tree path "${entry.path}" appears twice`);
    }
    seen.add(entry.path);
    out.push(entry);
  }
  return out;
}
