/** Disk images holding an ext4 filesystem made by the real mkfs.ext4 (e2fsprogs) from a folder. */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

export interface Ext4ImageOptions {
  /** The filesystem's size. */
  readonly sizeBytes: number;
  /** Where it starts in the image (the image ends where it ends). */
  readonly start?: number;
  /** More mkfs.ext4 options (block size, features, label). */
  readonly mkfs?: readonly string[];
  /** An MBR with one Linux partition holding it (`start` a multiple of 512). */
  readonly mbr?: boolean;
}

/** Makes `image` from the files under `tree` (owned by root in the filesystem) and returns its path. */
export function writeExt4Image(image: string, tree: string, options: Ext4ImageOptions): string {
  const start = options.start ?? 0;
  const fs = `${image}.fs`;
  rmSync(fs, { force: true });
  execFileSync('truncate', ['-s', String(options.sizeBytes), fs]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-E', 'root_owner=0:0', ...(options.mkfs ?? []), '-d', tree, fs]);
  rmSync(image, { force: true });
  execFileSync('truncate', ['-s', String(start + options.sizeBytes), image]);
  execFileSync('dd', [`if=${fs}`, `of=${image}`, 'bs=1M', `seek=${start}`, 'oflag=seek_bytes', 'conv=notrunc', 'status=none']);
  rmSync(fs);
  if (options.mbr) execFileSync('sfdisk', ['--quiet', image], { input: `label: dos\nstart=${start / 512}, type=83\n` });
  return image;
}
