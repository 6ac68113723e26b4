/**
 * A filesystem tree as metadata only: what a filesystem writer needs to plan every block before
 * any content is read. Regular files carry their apparent size and their data segments (holes are
 * the gaps between segments); their bytes arrive later, as a stream of `FileContent`, in the order
 * of `FsTree.files`. A hard link is the same node object reached from several directories, so
 * link counts are the number of directory entries that hold it.
 */
import { CardsmithError } from '../errors';
import type { DataSegment, FileChunk } from '../sources/tar';

export interface NodeMeta {
  /** Permission and special bits (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch; may carry a fraction (nanoseconds). */
  mtime: number;
  xattrs: ReadonlyMap<string, Uint8Array>;
}

export interface FileNode extends NodeMeta {
  readonly kind: 'file';
  size: number;
  /** Data segments, sorted; null when the whole file is data. */
  sparseMap: readonly DataSegment[] | null;
}

export interface DirNode extends NodeMeta {
  readonly kind: 'dir';
  readonly entries: Map<string, FsNode>;
}

export interface SymlinkNode extends NodeMeta {
  readonly kind: 'symlink';
  target: string;
}

export interface DeviceNode extends NodeMeta {
  readonly kind: 'char' | 'block';
  major: number;
  minor: number;
}

export interface SpecialNode extends NodeMeta {
  readonly kind: 'fifo' | 'socket';
}

export type FsNode = FileNode | DirNode | SymlinkNode | DeviceNode | SpecialNode;

export interface FsTree {
  readonly root: DirNode;
  /** Every regular file once (hard links included once), in the order their content arrives. */
  readonly files: readonly FileNode[];
}

/**
 * The bytes of one file, as chunks at file offsets (holes are absent). A chunk's bytes may be a
 * reused read buffer: use or copy them before taking the next chunk.
 */
export interface FileContent {
  readonly file: FileNode;
  readonly chunks: AsyncIterable<FileChunk>;
}

/** A tree plus a way to stream its file contents (which may re-read the source). */
export interface TreeSource {
  readonly tree: FsTree;
  contents(): AsyncIterable<FileContent>;
}

export const MAX_NAME_BYTES = 255;

export function newDir(meta: NodeMeta): DirNode {
  return { kind: 'dir', entries: new Map(), ...meta };
}

/** Rejects names a Linux filesystem cannot hold, naming the path. */
export function checkName(name: string, path: string): void {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_NAME_BYTES) {
    throw CardsmithError.keyed('bad-input', 'rootfs.longName', { path, bytes, max: MAX_NAME_BYTES }, {
      path,
      nameBytes: bytes,
    });
  }
}

/** Data segments of a file, or the whole file as one segment. */
export function dataSegments(file: FileNode): readonly DataSegment[] {
  return file.sparseMap ?? (file.size > 0 ? [{ offset: 0, length: file.size }] : []);
}

/** Visits every node depth-first with its path, directories before their entries, names sorted. */
export function* walkTree(dir: DirNode, path = ''): Generator<{ readonly path: string; readonly node: FsNode }> {
  if (path === '') yield { path: '', node: dir };
  for (const name of sortedNames(dir)) {
    const node = dir.entries.get(name)!;
    const child = path === '' ? name : `${path}/${name}`;
    yield { path: child, node };
    if (node.kind === 'dir') yield* walkTree(node, child);
  }
}

/** Entry names in byte order, so output never depends on insertion order. */
export function sortedNames(dir: DirNode): string[] {
  // Each name is encoded once, not once per comparison.
  const keyed = [...dir.entries.keys()].map((name) => ({ name, bytes: Buffer.from(name) }));
  return keyed.sort((a, b) => Buffer.compare(a.bytes, b.bytes)).map((k) => k.name);
}
