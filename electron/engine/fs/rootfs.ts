/**
 * A root filesystem source: a tarball (plain, gz, xz, zst — recognised by magic bytes) or a host
 * directory, opened as a TreeSource for the filesystem writers. Tarballs are decompressed twice
 * (metadata pass, then content pass) rather than extracted or held in memory.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { CardsmithError } from '../errors';
import { createDecompressor, detectFormat, MAGIC_BYTES } from '../sources/decompress';
import type { TreeSource } from './tree';
import { treeFromDirectory } from './tree-dir';
import { treeFromTar } from './tree-tar';

export interface RootfsOptions {
  /** SOURCE_DATE_EPOCH: mtime of directories a tarball implies without listing them. */
  readonly defaultMtime: number;
}

/** Re-openable decompressed byte stream of a tarball. */
export async function tarballStream(path: string): Promise<() => AsyncIterable<Uint8Array>> {
  const handle = await open(path, 'r');
  const head = new Uint8Array(MAGIC_BYTES);
  try {
    await handle.read(head, 0, MAGIC_BYTES, 0);
  } finally {
    await handle.close();
  }
  const format = detectFormat(head);
  if (format === 'zip') throw new CardsmithError('bad-input', `"${path}" is a zip archive; a root filesystem must be a tarball or a directory`, { path });
  return () => {
    const decoder = createDecompressor(format);
    const file = createReadStream(path, { highWaterMark: 1 << 20 });
    file.on('error', (error) => decoder.destroy(error));
    return file.pipe(decoder) as AsyncIterable<Uint8Array>;
  };
}

export async function openRootfs(path: string, options: RootfsOptions): Promise<TreeSource> {
  const info = await stat(path);
  if (info.isDirectory()) return treeFromDirectory(path);
  return treeFromTar(await tarballStream(path), options);
}
