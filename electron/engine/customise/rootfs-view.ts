/**
 * What the customisation planner sees of a root filesystem: its metadata tree, with symlinks
 * resolved inside the rootfs (never on the host), and the text of the few small files it edits,
 * read beforehand. And what it returns: edits — whole files, directories, symlinks and removals —
 * applied to the tree before the filesystem is written.
 */
import type { DirNode, FileNode, FsNode, FsTree } from '../fs/tree';

export type Edit =
  | { readonly kind: 'file'; readonly path: string; readonly mode: number; readonly uid: number; readonly gid: number; readonly content: Uint8Array }
  | { readonly kind: 'dir'; readonly path: string; readonly mode: number; readonly uid: number; readonly gid: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string; readonly uid: number; readonly gid: number }
  | { readonly kind: 'remove'; readonly path: string };

const MAX_HOPS = 40;
/** Files the planner reads are configuration; anything bigger is not what it expects. */
export const MAX_READ_BYTES = 1 << 20;

export class RootfsView {
  constructor(
    readonly tree: FsTree,
    private readonly contents: ReadonlyMap<FileNode, Uint8Array>,
  ) {}

  /** The node at `path` (no leading '/'), following symlinks in every part but the last unless `follow`. */
  find(path: string, follow = true): FsNode | undefined {
    return this.walk(path.split('/').filter((p) => p !== ''), follow, 0);
  }

  private walk(parts: readonly string[], follow: boolean, hops: number): FsNode | undefined {
    let node: FsNode = this.tree.root;
    const seen: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      if (node.kind !== 'dir') return undefined;
      const next: FsNode | undefined = node.entries.get(parts[i]!);
      if (!next) return undefined;
      const last = i === parts.length - 1;
      if (next.kind === 'symlink' && (follow || !last)) {
        if (hops >= MAX_HOPS) return undefined;
        const base = next.target.startsWith('/') ? [] : seen;
        const target = [...base, ...next.target.split('/'), ...parts.slice(i + 1)];
        return this.walk(normalise(target), follow, hops + 1);
      }
      seen.push(parts[i]!);
      node = next;
    }
    return node;
  }

  exists(path: string): boolean {
    return this.find(path) !== undefined;
  }

  isDir(path: string): boolean {
    return this.find(path)?.kind === 'dir';
  }

  /** The text of a file read beforehand, or null when the rootfs has no such file. */
  text(path: string): string | null {
    const node = this.find(path);
    if (node?.kind !== 'file') return null;
    const bytes = this.contents.get(node);
    return bytes ? new TextDecoder().decode(bytes) : null;
  }

  bytes(node: FileNode): Uint8Array | undefined {
    return this.contents.get(node);
  }
}

function normalise(parts: readonly string[]): string[] {
  const out: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}

/** The files the planner may read: account databases, a few configuration files and /etc/skel. */
export function filesToRead(tree: FsTree): Set<FileNode> {
  const view = new RootfsView(tree, new Map());
  const wanted = new Set<FileNode>();
  const add = (node: FsNode | undefined): void => {
    if (node?.kind === 'file' && node.size <= MAX_READ_BYTES) wanted.add(node);
  };
  for (const path of READ_PATHS) add(view.find(path));
  const skel = view.find('etc/skel');
  if (skel?.kind === 'dir') {
    const visit = (dir: DirNode): void => {
      for (const node of dir.entries.values()) {
        if (node.kind === 'dir') visit(node);
        else add(node);
      }
    };
    visit(skel);
  }
  return wanted;
}

const READ_PATHS = ['etc/passwd', 'etc/shadow', 'etc/group', 'etc/gshadow', 'etc/hosts', 'etc/ssh/sshd_config', 'etc/network/interfaces', 'etc/os-release', 'usr/lib/os-release'];
