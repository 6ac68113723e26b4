/**
 * Oracles for the ext4 writer: build an image from a tarball with Cardsmith, then judge it only
 * with the real tools — `e2fsck -fn`, and the kernel mounting it read-only on a loop device —
 * comparing every name, type, mode, owner, size, content hash, link target, link count, mtime and
 * xattr against the host tree the tarball was made from.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, mkdtempSync, openSync, readdirSync, readlinkSync, readSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planExt4, writeExt4, type Ext4Options, type Ext4Plan } from '../../../electron/engine/fs/ext4/ext4';
import { FileSink } from '../../../electron/engine/fs/sink';
import { openRootfs } from '../../../electron/engine/fs/rootfs';
import { detachLoop } from '../../helpers/loop';

export const EPOCH = 1_700_000_000;

/** Builds `image` from a tarball (any compression) or a directory, as the builder would. */
export async function buildImage(rootfs: string, image: string, options: Partial<Ext4Options> = {}): Promise<Ext4Plan> {
  const source = await openRootfs(rootfs, { defaultMtime: EPOCH });
  const plan = planExt4(source.tree, { size: { kind: 'minimal' }, seed: 'test-seed', timestamp: EPOCH, ...options });
  const partial = `${image}.partial`;
  const sink = await FileSink.create(partial, plan.report.sizeBytes);
  try {
    await writeExt4(plan, sink, source.contents());
  } finally {
    await sink.close();
  }
  renameSync(partial, image);
  return plan;
}

/** Runs `e2fsck -fn`; returns its exit status and output (0 = clean). */
export function fsck(image: string): { status: number; output: string } {
  const run = spawnSync('e2fsck', ['-fn', image], { encoding: 'utf8' });
  return { status: run.status ?? -1, output: `${run.stdout}${run.stderr}` };
}

export interface Entry {
  readonly type: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size?: number;
  readonly sha256?: string;
  readonly target?: string;
  readonly nlink: number;
  readonly mtime: number;
  readonly rdev?: number;
}

function typeOf(mode: number): string {
  const kinds: Record<number, string> = { 0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink', 0o020000: 'char', 0o060000: 'block', 0o010000: 'fifo', 0o140000: 'socket' };
  return kinds[mode & 0o170000] ?? 'unknown';
}

const buffer = Buffer.alloc(1 << 20);
/** Larger files (the 2 GiB sparse one) are checked by their known bytes and block count instead. */
const HASH_LIMIT = 256 << 20;

function hashFile(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** Every path under `root` (relative, '' = root) with what a tarball can carry. */
export function snapshot(root: string, skip: readonly string[] = []): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const visit = (rel: string): void => {
    const full = rel ? join(root, rel) : root;
    const st = lstatSync(full);
    const type = typeOf(st.mode);
    out.set(rel, {
      type,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      nlink: st.nlink,
      mtime: Math.floor(st.mtimeMs / 1000),
      ...(type === 'file' ? { size: st.size, sha256: st.size > HASH_LIMIT ? 'not hashed (large)' : hashFile(full) } : {}),
      ...(type === 'symlink' ? { target: readlinkSync(full) } : {}),
      ...(type === 'char' || type === 'block' ? { rdev: st.rdev } : {}),
    });
    if (type === 'dir') {
      for (const name of readdirSync(full)) {
        const child = rel ? `${rel}/${name}` : name;
        if (!skip.includes(child)) visit(child);
      }
    }
  };
  visit('');
  return out;
}

/** `getfattr` dump of every xattr under `root`, keyed by relative path. */
export function xattrs(root: string): Map<string, string> {
  const text = execFileSync('getfattr', ['-R', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', root], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const out = new Map<string, string>();
  for (const block of text.split('\n\n')) {
    const lines = block.trim().split('\n');
    const head = lines.shift();
    if (!head?.startsWith('# file: ')) continue;
    const path = head.slice('# file: '.length).slice(root.length).replace(/^\//, '');
    out.set(path, lines.sort().join('\n'));
  }
  return out;
}

/** Mounts `image` read-only through a loop device for the duration of `body`. */
export async function withMountedImage<T>(image: string, body: (mountPoint: string) => Promise<T> | T): Promise<T> {
  const mountPoint = mkdtempSync(join(tmpdir(), 'cardsmith-mnt-'));
  const device = execFileSync('losetup', ['-r', '-f', '--show', image], { encoding: 'utf8' }).trim();
  try {
    execFileSync('mount', ['-t', 'ext4', '-o', 'ro', device, mountPoint]);
    try {
      return await body(mountPoint);
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  } finally {
    detachLoop(device);
    rmSync(mountPoint, { recursive: true, force: true });
  }
}
