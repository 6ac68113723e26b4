/**
 * Builds an FsTree from a directory on the host (lstat only: symlinks are never followed, so
 * nothing outside the directory is read). Ownership, modes and nanosecond mtimes are the host's;
 * files sharing a (device, inode) pair become one node with several names (hard links).
 * Extended attributes are read with one `getfattr -R` run where that tool exists (Linux, package
 * `attr`); elsewhere the tree carries none.
 *
 * A file whose allocated blocks cover less than its size has holes: its 4 KiB blocks are scanned
 * once while planning and all-zero blocks become holes, so a sparse file stays sparse.
 */
import { createReadStream, type BigIntStats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { splitDevNumber } from '../drives/identity';
import { CardsmithError } from '../errors';
import { runTool, which } from '../tools';
import type { DataSegment, FileChunk } from '../sources/tar';
import { checkName, newDir, type DirNode, type FileContent, type FileNode, type FsNode, type NodeMeta, type TreeSource } from './tree';

const SCAN_BLOCK = 4096;
const ZEROS = Buffer.alloc(1 << 20);

function metaOf(st: BigIntStats, xattrs: ReadonlyMap<string, Uint8Array>): NodeMeta {
  return {
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtime: Number(st.mtimeNs / 1_000_000_000n) + Number(st.mtimeNs % 1_000_000_000n) / 1e9,
    xattrs,
  };
}

/** Parses `getfattr -d -e hex` output into path → (name → value). */
export function parseGetfattr(text: string, root: string): Map<string, Map<string, Uint8Array>> {
  const unescape = (s: string): string =>
    Buffer.from(s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))), 'latin1').toString('utf8');
  const out = new Map<string, Map<string, Uint8Array>>();
  let current: Map<string, Uint8Array> | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) {
      const path = unescape(line.slice(8));
      const rel = path === root ? '' : path.slice(root.length + 1);
      current = new Map();
      out.set(rel, current);
    } else if (current && line.includes('=')) {
      const eq = line.indexOf('=');
      const value = line.slice(eq + 1);
      const bytes = value.startsWith('0x') ? Buffer.from(value.slice(2), 'hex') : Buffer.from(value.replace(/^"|"$/g, ''), 'utf8');
      current.set(unescape(line.slice(0, eq)), Uint8Array.from(bytes));
    }
  }
  return out;
}

async function readXattrs(root: string): Promise<Map<string, Map<string, Uint8Array>>> {
  if (process.platform !== 'linux' || which('getfattr') === null) return new Map();
  const { stdout } = await runTool('getfattr', ['-R', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', root], { maxBuffer: 256 << 20, package: 'attr' });
  return parseGetfattr(stdout, root);
}

/** Data segments of a file with holes: runs of 4 KiB blocks that are not all zero. */
async function scanSparse(path: string, size: number): Promise<DataSegment[]> {
  const handle = await open(path, 'r');
  const buffer = Buffer.alloc(1 << 20);
  const segments: DataSegment[] = [];
  try {
    for (let base = 0; base < size; base += buffer.length) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, base);
      if (bytesRead === buffer.length && buffer.equals(ZEROS)) continue;
      for (let at = 0; at < bytesRead; at += SCAN_BLOCK) {
        const block = buffer.subarray(at, Math.min(bytesRead, at + SCAN_BLOCK));
        if (block.equals(ZEROS.subarray(0, block.length))) continue;
        const offset = base + at;
        const last = segments[segments.length - 1];
        if (last && last.offset + last.length === offset) segments[segments.length - 1] = { offset: last.offset, length: last.length + block.length };
        else segments.push({ offset, length: block.length });
      }
      if (bytesRead === 0) break;
    }
  } finally {
    await handle.close();
  }
  return segments;
}

export async function treeFromDirectory(root: string): Promise<TreeSource> {
  const xattrsByPath = await readXattrs(root);
  const none = new Map<string, Uint8Array>();
  const rootStat = await lstat(root, { bigint: true });
  if (!rootStat.isDirectory()) throw CardsmithError.keyed('bad-input', 'file.notDirectory', { path: root }, { path: root });
  const tree: DirNode = newDir(metaOf(rootStat, xattrsByPath.get('') ?? none));
  const files: FileNode[] = [];
  const hostPaths = new Map<FileNode, string>();
  const byInode = new Map<string, FsNode>();

  const visit = async (dir: DirNode, rel: string): Promise<void> => {
    const names = (await readdir(rel ? join(root, rel) : root)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      checkName(name, childRel);
      const full = join(root, childRel);
      const st = await lstat(full, { bigint: true });
      const key = `${st.dev}:${st.ino}`;
      const linked = !st.isDirectory() && st.nlink > 1n ? byInode.get(key) : undefined;
      if (linked) {
        dir.entries.set(name, linked);
        continue;
      }
      const meta = metaOf(st, xattrsByPath.get(childRel) ?? none);
      let node: FsNode;
      if (st.isDirectory()) node = newDir(meta);
      else if (st.isFile()) {
        const size = Number(st.size);
        const sparse = Number(st.blocks) * 512 < size;
        const file: FileNode = { kind: 'file', size, sparseMap: sparse ? await scanSparse(full, size) : null, ...meta };
        files.push(file);
        hostPaths.set(file, full);
        node = file;
      } else if (st.isSymbolicLink()) node = { kind: 'symlink', target: await readlink(full), ...meta };
      else if (st.isCharacterDevice() || st.isBlockDevice()) node = { kind: st.isCharacterDevice() ? 'char' : 'block', ...splitDevNumber(st.rdev), ...meta };
      else if (st.isFIFO()) node = { kind: 'fifo', ...meta };
      else node = { kind: 'socket', ...meta };
      if (st.nlink > 1n && !st.isDirectory()) byInode.set(key, node);
      dir.entries.set(name, node);
      if (node.kind === 'dir') await visit(node, childRel);
    }
  };
  await visit(tree, '');

  return { tree: { root: tree, files }, contents: () => hostContents(files, hostPaths) };
}

async function* hostContents(files: readonly FileNode[], paths: ReadonlyMap<FileNode, string>): AsyncGenerator<FileContent> {
  for (const file of files) yield { file, chunks: readSegments(paths.get(file)!, file) };
}

async function* readSegments(path: string, file: FileNode): AsyncGenerator<FileChunk> {
  for (const segment of file.sparseMap ?? [{ offset: 0, length: file.size }]) {
    if (segment.length === 0) continue;
    let offset = segment.offset;
    const stream = createReadStream(path, { start: segment.offset, end: segment.offset + segment.length - 1, highWaterMark: 1 << 20 });
    for await (const data of stream as AsyncIterable<Buffer>) {
      yield { offset, data };
      offset += data.length;
    }
  }
}
