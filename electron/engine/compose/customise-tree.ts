/**
 * Customisation as a layer over the rootfs TreeSource: the few files the planner reads are read
 * first (one pass over the contents, stopped as soon as they are all in), then the planned edits
 * change the metadata tree in place, and the content stream skips replaced files and adds the new
 * ones from memory. The ext4 writer sees one ordinary tree; nothing is written to the host.
 */
import { CardsmithError } from '../errors';
import { filesToRead, RootfsView, type Edit } from '../customise/rootfs-view';
import { isEmpty, type Customise } from '../customise/model';
import { customisedFiles, planCustomisation } from '../customise/plan';
import { newDir, walkTree, type DirNode, type FileContent, type FileNode, type NodeMeta, type TreeSource } from '../fs/tree';

/** The bytes of `wanted`, from one pass over the contents that ends once all have arrived. */
export async function readFiles(source: TreeSource, wanted: ReadonlySet<FileNode>): Promise<Map<FileNode, Uint8Array>> {
  const read = new Map<FileNode, Uint8Array>();
  if (wanted.size === 0) return read;
  for await (const { file, chunks } of source.contents()) {
    if (!wanted.has(file)) continue;
    const bytes = new Uint8Array(file.size);
    for await (const chunk of chunks) bytes.set(chunk.data.subarray(0, Math.max(0, file.size - chunk.offset)), chunk.offset);
    read.set(file, bytes);
    if (read.size === wanted.size) break;
  }
  return read;
}

function parentDir(root: DirNode, path: string, meta: NodeMeta): { dir: DirNode; name: string } {
  const parts = path.split('/');
  const name = parts.pop()!;
  let dir = root;
  for (const [i, part] of parts.entries()) {
    let next = dir.entries.get(part);
    if (!next) {
      next = newDir({ ...meta, mode: 0o755, uid: 0, gid: 0 });
      dir.entries.set(part, next);
    }
    if (next.kind !== 'dir') {
      const at = parts.slice(0, i + 1).join('/');
      throw CardsmithError.keyed('bad-input', 'rootfs.notDirectory', { path: `/${path}`, at: `/${at}`, kind: next.kind }, { path: `/${at}` });
    }
    dir = next;
  }
  return { dir, name };
}

/** Applies `edits` to `source`'s tree (changed in place) and returns the source to build from. */
export function applyEdits(source: TreeSource, edits: readonly Edit[], mtime: number): TreeSource {
  const root = source.tree.root;
  const added = new Map<FileNode, Uint8Array>();
  const none = new Map<string, Uint8Array>();
  for (const edit of edits) {
    const { dir, name } = parentDir(root, edit.path, { mode: 0o755, uid: 0, gid: 0, mtime, xattrs: none });
    const existing = dir.entries.get(name);
    switch (edit.kind) {
      case 'remove':
        if (existing?.kind === 'dir') throw new CardsmithError('internal', `/${edit.path} is a directory; only files are removed`, { path: `/${edit.path}` });
        dir.entries.delete(name);
        break;
      case 'dir':
        if (existing?.kind === 'dir') Object.assign(existing, { mode: edit.mode, uid: edit.uid, gid: edit.gid });
        else dir.entries.set(name, newDir({ mode: edit.mode, uid: edit.uid, gid: edit.gid, mtime, xattrs: none }));
        break;
      case 'symlink':
        dir.entries.set(name, { kind: 'symlink', target: edit.target, mode: 0o777, uid: edit.uid, gid: edit.gid, mtime, xattrs: none });
        break;
      case 'file': {
        // A replaced file keeps its extended attributes (an SELinux label, say).
        const xattrs = existing && existing.kind !== 'dir' ? existing.xattrs : none;
        const file: FileNode = { kind: 'file', size: edit.content.length, sparseMap: null, mode: edit.mode, uid: edit.uid, gid: edit.gid, mtime, xattrs };
        dir.entries.set(name, file);
        added.set(file, edit.content);
        break;
      }
    }
  }
  const reachable = new Set<FileNode>();
  for (const { node } of walkTree(root)) if (node.kind === 'file') reachable.add(node);
  const kept = source.tree.files.filter((file) => reachable.has(file));
  const fresh = [...added.keys()].filter((file) => reachable.has(file));
  return {
    tree: { root, files: [...kept, ...fresh] },
    async *contents(): AsyncGenerator<FileContent> {
      for await (const content of source.contents()) if (reachable.has(content.file)) yield content;
      for (const file of fresh) {
        const data = added.get(file)!;
        yield { file, chunks: (async function* () { if (data.length > 0) yield { offset: 0, data }; })() };
      }
    },
  };
}

export interface Customised {
  readonly source: TreeSource;
  readonly files: string[];
  readonly cmdline: readonly string[];
}

/** The rootfs with `settings` applied (unchanged when they ask for nothing). */
export async function customiseRootfs(source: TreeSource, settings: Customise | undefined, options: { timestamp: number; seed: string }): Promise<Customised> {
  if (!settings || isEmpty(settings)) return { source, files: [], cmdline: [] };
  const view = new RootfsView(source.tree, await readFiles(source, filesToRead(source.tree)));
  const plan = planCustomisation(view, settings, options);
  return { source: applyEdits(source, plan.edits, options.timestamp), files: customisedFiles(plan), cmdline: plan.cmdline };
}
