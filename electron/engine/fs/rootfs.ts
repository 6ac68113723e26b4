/**
 * A root filesystem source: a tarball (plain, gz, xz, zst — recognised by magic bytes) or a host
 * directory, opened as a TreeSource for the filesystem writers. Tarballs are decompressed twice
 * (metadata pass, then content pass) rather than extracted or held in memory.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { CardsmithError } from '../errors';
import { createDecompressor, detectFormat, MAGIC_BYTES } from '../sources/decompress';
import { directFileReader } from '../sources/direct-reader';
import { streamReader, type PullReader } from '../sources/pull-reader';
import type { TreeSource } from './tree';
import { treeFromDirectory } from './tree-dir';
import { treeFromTar, type TarWarnings } from './tree-tar';

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
  if (format === 'zip') throw CardsmithError.keyed('bad-input', 'rootfs.zip', { path }, { path });
  const decoded = (): Readable => {
    const decoder = createDecompressor(format);
    const file = createReadStream(path, { highWaterMark: READ_CHUNK });
    file.on('error', (error) => decoder.destroy(error));
    return file.pipe(decoder);
  };
  return () => reusedChunks(async () => (await directFileReader(path, format)) ?? streamReader(decoded()));
}

const READ_CHUNK = 1 << 20;
/** Buffers in rotation: the one being handed out, the one being read ahead, one spare. */
const READ_BUFFERS = 3;

/**
 * The tarball's bytes in READ_CHUNK pieces read into READ_BUFFERS reused buffers, the next read
 * started before a chunk is handed out. A chunk stays intact until two more chunks have been
 * taken; the tar reader copies what it keeps past the next read. A stream would allocate a fresh
 * buffer per read: two passes over a 1 GiB rootfs made 2 GiB of off-heap garbage, held until the
 * next GC (tens of MiB of RSS). Plain, zst and xz tarballs are decoded straight into the buffers
 * (sources/direct-reader.ts); other formats are copied in from their decoder's stream.
 */
async function* reusedChunks(openReader: () => Promise<PullReader>): AsyncGenerator<Uint8Array> {
  const reader = await openReader();
  const buffers = Array.from({ length: READ_BUFFERS }, () => new Uint8Array(READ_CHUNK));
  const read = (index: number): Promise<{ bytesRead: number; buffer: Uint8Array }> => {
    const buffer = buffers[index % READ_BUFFERS]!;
    const reading = reader.read(buffer).then((bytesRead) => ({ bytesRead, buffer }));
    // A read ahead may fail while its caller is busy elsewhere: the error is thrown when it is
    // awaited, not reported as unhandled in between.
    reading.catch(() => undefined);
    return reading;
  };
  let pending = read(0);
  try {
    for (let index = 1; ; index++) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) return;
      pending = read(index);
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    // A read still in flight must finish before the source closes.
    await pending.catch(() => undefined);
    await reader.close();
  }
}

/** A rootfs to build from, with what reading it changed from the tarball's literal content. */
export type RootfsSource = TreeSource & { readonly warnings: TarWarnings };

export async function openRootfs(path: string, options: RootfsOptions): Promise<RootfsSource> {
  const info = await stat(path);
  if (info.isDirectory()) return { ...(await treeFromDirectory(path)), warnings: { count: 0, messages: [] } };
  return treeFromTar(await tarballStream(path), options);
}
