/**
 * The build's inputs from the host: the rootfs archive (a tar, plain or compressed, read twice —
 * metadata first, contents while writing), the loader files for the board, and the free space
 * where the image will be written. Thin I/O edges; the decisions are in compose.ts and the planners.
 */
import { createReadStream } from 'node:fs';
import { open, readFile, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { filesFromDeb, chooseLayout, resolveLoaderFiles } from '../boards/loader-source';
import type { Board, LoaderWrite } from '../boards/model';
import { CardsmithError } from '../errors';
import { treeFromTar } from '../fs/tree-tar';
import type { TreeSource } from '../fs/tree';
import { createDecompressor, detectFormat, MAGIC_BYTES } from '../sources/decompress';
import { bytesFile, hostFile, type BootFile } from './boot-tree';

/** Opens a rootfs tar (none/gz/xz/zst/bz2) as a tree source; only its metadata is read now. */
export async function openRootfs(path: string, defaultMtime: number): Promise<TreeSource> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new CardsmithError('bad-input', `--rootfs ${path} does not exist`, { path });
  if (info.isDirectory()) {
    throw new CardsmithError('not-implemented', `--rootfs ${path} is a folder; building from a folder is not supported yet, pass a tar archive`, { path });
  }
  const handle = await open(path, 'r');
  const head = new Uint8Array(MAGIC_BYTES);
  try {
    await handle.read(head, 0, MAGIC_BYTES, 0);
  } finally {
    await handle.close();
  }
  const format = detectFormat(head);
  if (format === 'zip') throw new CardsmithError('bad-input', `--rootfs ${path} is a zip archive; pass a tar (plain, .gz, .xz, .zst or .bz2)`, { path });
  const openStream = (): AsyncIterable<Uint8Array> => createReadStream(path, { highWaterMark: 1 << 20 }).pipe(createDecompressor(format));
  return treeFromTar(openStream, { defaultMtime });
}

export interface LoaderInput {
  /** Raw writes at card offsets (raw-offset boards). */
  readonly writes: readonly LoaderWrite[];
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** U-Boot for the FAT partition (firmware-files boards), when given apart from --boot-files. */
  readonly uboot: BootFile | null;
}

/** Gathers the board's loader: raw writes for U-Boot boards, u-boot.bin for the Raspberry Pi. */
export async function loaderFor(board: Board, from: string | undefined, signal: AbortSignal): Promise<LoaderInput> {
  switch (board.bootMethod) {
    case 'raw-offset': {
      const loader = await resolveLoaderFiles(board, from, { signal });
      const chosen = chooseLayout(board, new Set(loader.files.keys()), loader.origin);
      return { writes: chosen.writes, files: loader.files, uboot: null };
    }
    case 'firmware-files': {
      if (from === undefined) return { writes: [], files: new Map(), uboot: null };
      const info = await stat(from).catch(() => null);
      if (!info) throw new CardsmithError('bad-input', `--loader-from ${from} does not exist`, { path: from });
      if (info.isDirectory()) return { writes: [], files: new Map(), uboot: await hostFile(join(from, 'u-boot.bin')) };
      if (from.endsWith('.deb')) {
        const files = (await filesFromDeb(board, new Uint8Array(await readFile(from)), from)).files;
        const uboot = files.get('u-boot.bin');
        if (!uboot) throw new CardsmithError('bad-input', `${from} has no u-boot.bin for ${board.name}`, { path: from });
        return { writes: [], files: new Map(), uboot: bytesFile(uboot) };
      }
      return { writes: [], files: new Map(), uboot: await hostFile(from) };
    }
    case 'none':
      return { writes: [], files: new Map(), uboot: null };
  }
}

/**
 * Fails with 'no-space' when the folder of `output` has less than `neededBytes` free. The output
 * must be (or become) a regular file: a card is written by `flash`, which checks it is safe.
 */
export async function checkOutput(output: string, neededBytes: number): Promise<void> {
  const existing = await stat(output).catch(() => null);
  if (existing && !existing.isFile()) {
    throw new CardsmithError('bad-input', `${output} is not a regular file; build writes an image file (flash it to a card with \`cardsmith flash\`)`, { path: output });
  }
  const folder = dirname(output);
  const fs = await statfs(folder).catch(() => {
    throw new CardsmithError('bad-input', `The output folder ${folder} does not exist`, { path: folder });
  });
  const available = fs.bavail * fs.bsize;
  if (available < neededBytes) {
    throw new CardsmithError('no-space', `${folder} has ${available} bytes free but the image needs ${neededBytes}`, {
      path: folder,
      neededBytes,
      availableBytes: available,
    });
  }
}
