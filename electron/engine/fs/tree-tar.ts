/**
 * Builds an FsTree from a tar stream, the way extracting it would (later entries replace earlier
 * ones at the same path, a directory entry for an existing directory only updates its metadata,
 * missing parents are created 0755 root:root at `defaultMtime`) — but in memory, never on the
 * host. Ownership, modes, times and xattrs come only from the tar headers.
 *
 * Reading is two passes over the archive: the first collects metadata (bodies skipped), the
 * second (`contents()`) re-opens the stream and hands over the bodies of the files that survived,
 * matched by their entry index. So `open` must return the same bytes each time it is called.
 */
import { CardsmithError } from '../errors';
import { readTar, type TarEntry } from '../sources/tar';
import { checkName, newDir, type DirNode, type FileContent, type FileNode, type FsNode, type NodeMeta, type TreeSource, walkTree } from './tree';

export interface TarTreeOptions {
  /** mtime of directories the archive implies but does not list (SOURCE_DATE_EPOCH). */
  readonly defaultMtime: number;
}

function metaOf(entry: TarEntry): NodeMeta {
  return { mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime, xattrs: entry.xattrs };
}

function nodeOf(entry: TarEntry): FsNode | null {
  const meta = metaOf(entry);
  switch (entry.kind) {
    case 'file':
      return { kind: 'file', size: entry.size, sparseMap: entry.sparseMap, ...meta };
    case 'dir':
      return newDir(meta);
    case 'symlink':
      return { kind: 'symlink', target: entry.linkTarget ?? '', ...meta };
    case 'char':
    case 'block':
      return { kind: entry.kind, major: entry.devMajor, minor: entry.devMinor, ...meta };
    case 'fifo':
      return { kind: 'fifo', ...meta };
    case 'hardlink':
      return null;
  }
}

export async function treeFromTar(open: () => AsyncIterable<Uint8Array>, options: TarTreeOptions): Promise<TreeSource> {
  const implied: NodeMeta = { mode: 0o755, uid: 0, gid: 0, mtime: options.defaultMtime, xattrs: new Map() };
  const root = newDir(implied);
  const fileByIndex = new Map<number, FileNode>();

  const parentOf = (path: string): { dir: DirNode; name: string } => {
    const parts = path.split('/');
    const name = parts.pop()!;
    let dir = root;
    let walked = '';
    for (const part of parts) {
      walked = walked ? `${walked}/${part}` : part;
      checkName(part, walked);
      const next = dir.entries.get(part);
      if (next?.kind === 'dir') dir = next;
      else {
        const made = newDir(implied);
        dir.entries.set(part, made);
        dir = made;
      }
    }
    checkName(name, path);
    return { dir, name };
  };

  const lookup = (path: string): FsNode | undefined => {
    let node: FsNode = root;
    for (const part of path === '' ? [] : path.split('/')) {
      if (node.kind !== 'dir') return undefined;
      const next = node.entries.get(part);
      if (!next) return undefined;
      node = next;
    }
    return node;
  };

  let index = 0;
  for await (const entry of readTar(open())) {
    const at = index++;
    if (entry.path === '') {
      if (entry.kind === 'dir') Object.assign(root, metaOf(entry));
      continue;
    }
    const { dir, name } = parentOf(entry.path);
    if (entry.kind === 'hardlink') {
      const target = lookup(entry.linkTarget ?? '');
      if (!target || target.kind === 'dir') {
        throw new CardsmithError('bad-input', `Hard link "${entry.path}" points to "${entry.linkTarget}", which is not an earlier non-directory entry`, {
          path: entry.path,
          target: entry.linkTarget,
          offset: entry.headerOffset,
        });
      }
      dir.entries.set(name, target);
      continue;
    }
    const existing = dir.entries.get(name);
    if (entry.kind === 'dir' && existing?.kind === 'dir') {
      Object.assign(existing, metaOf(entry));
      continue;
    }
    const node = nodeOf(entry)!;
    dir.entries.set(name, node);
    if (node.kind === 'file') fileByIndex.set(at, node);
  }

  const reachable = new Set<FsNode>();
  for (const { node } of walkTree(root)) reachable.add(node);
  const kept = new Map([...fileByIndex].filter(([, file]) => reachable.has(file)));

  return {
    tree: { root, files: [...kept.values()] },
    contents: () => contentsOf(open, kept),
  };
}

async function* contentsOf(open: () => AsyncIterable<Uint8Array>, files: ReadonlyMap<number, FileNode>): AsyncGenerator<FileContent> {
  let index = 0;
  for await (const entry of readTar(open())) {
    const file = files.get(index++);
    if (file) yield { file, chunks: entry.body };
  }
}
