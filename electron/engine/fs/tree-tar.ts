/**
 * Builds an FsTree from a tar stream, the way extracting it would (later entries replace earlier
 * ones at the same path, a directory entry for an existing directory only updates its metadata,
 * missing parents are created 0755 root:root at `defaultMtime`) — but in memory, never on the
 * host. Ownership, modes, times and xattrs come only from the tar headers.
 *
 * Where building differs from what the archive literally says, it is reported, never silent: a
 * name whose '..' climbs above the root is placed under the root, and an entry that puts a
 * directory where an earlier entry left a file (or a file over a directory) drops the earlier one.
 *
 * Reading is two passes over the archive: the first collects metadata (bodies skipped), the
 * second (`contents()`) re-opens the stream and hands over the bodies of the files that survived,
 * matched by their entry index. So `open` must return the same bytes each time it is called.
 */
import { CardsmithError } from '../errors';
import { climbsAboveRoot, readTar, type TarEntry } from '../sources/tar';
import { checkName, newDir, type DirNode, type FileContent, type FileNode, type FsNode, type NodeMeta, type TreeSource, walkTree } from './tree';

export interface TarTreeOptions {
  /** mtime of directories the archive implies but does not list (SOURCE_DATE_EPOCH). */
  readonly defaultMtime: number;
}

/** What building the tree changed from the archive's literal content; `messages` holds the first few. */
export interface TarWarnings {
  readonly count: number;
  readonly messages: readonly string[];
}

const MAX_WARNING_MESSAGES = 100;

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

export async function treeFromTar(open: () => AsyncIterable<Uint8Array>, options: TarTreeOptions): Promise<TreeSource & { readonly warnings: TarWarnings }> {
  const implied: NodeMeta = { mode: 0o755, uid: 0, gid: 0, mtime: options.defaultMtime, xattrs: new Map() };
  const root = newDir(implied);
  const fileByIndex = new Map<number, FileNode>();
  const messages: string[] = [];
  let count = 0;
  const warn = (message: string): void => {
    count++;
    if (messages.length < MAX_WARNING_MESSAGES) messages.push(message);
  };
  const replaced = (path: string, old: FsNode, by: string, entry: TarEntry): void => {
    warn(`"${path}": the ${old.kind === 'dir' ? 'directory' : old.kind} from an earlier entry is replaced by ${by} of entry "${entry.rawPath}" at byte ${entry.headerOffset}; the earlier one is dropped`);
  };

  const parentOf = (entry: TarEntry): { dir: DirNode; name: string } => {
    const path = entry.path;
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
        if (next) replaced(walked, next, 'a directory implied by the path', entry);
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
    if (climbsAboveRoot(entry.rawPath)) warn(`"${entry.rawPath}" (entry at byte ${entry.headerOffset}) climbs above the root with '..'; placed at "${entry.path}"`);
    const { dir, name } = parentOf(entry);
    if (entry.kind === 'hardlink') {
      const target = lookup(entry.linkTarget ?? '');
      if (!target || target.kind === 'dir') {
        throw CardsmithError.keyed('bad-input', 'rootfs.badHardLink', { path: entry.path, target: entry.linkTarget ?? '' }, {
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
    if (existing && (node.kind === 'dir' || (existing.kind === 'dir' && existing.entries.size > 0))) {
      replaced(entry.path, existing, node.kind === 'dir' ? 'the directory' : `the ${node.kind}`, entry);
    }
    dir.entries.set(name, node);
    if (node.kind === 'file') fileByIndex.set(at, node);
  }

  const reachable = new Set<FsNode>();
  for (const { node } of walkTree(root)) reachable.add(node);
  const kept = new Map([...fileByIndex].filter(([, file]) => reachable.has(file)));

  return {
    tree: { root, files: [...kept.values()] },
    contents: () => contentsOf(open, kept),
    warnings: { count, messages },
  };
}

async function* contentsOf(open: () => AsyncIterable<Uint8Array>, files: ReadonlyMap<number, FileNode>): AsyncGenerator<FileContent> {
  let index = 0;
  for await (const entry of readTar(open())) {
    const file = files.get(index++);
    if (file) yield { file, chunks: entry.body };
  }
}
