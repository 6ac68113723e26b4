/**
 * The build's inputs from the host: the rootfs (a tarball, read twice — metadata first, contents
 * while writing — or a folder), the loader files for the board, and the output file's folder with
 * its free space. Thin I/O edges; the decisions are in compose.ts and the planners.
 */
import { readFile, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { filesFromDeb, chooseLayout, resolveLoaderFiles } from '../boards/loader-source';
import type { Board, LoaderWrite } from '../boards/model';
import { CardsmithError } from '../errors';
import { openRootfs, type RootfsSource } from '../fs/rootfs';
import { bytesFile, hostFile, type BootFile } from './boot-tree';

/** Opens the rootfs (a tarball, plain or compressed, or a folder); only metadata is read now. */
export async function openRootfsInput(path: string, defaultMtime: number): Promise<RootfsSource> {
  if (!(await stat(path).catch(() => null))) throw CardsmithError.keyed('bad-input', 'build.noRootfs', { path }, { path });
  return openRootfs(path, { defaultMtime });
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
      if (!info) throw CardsmithError.keyed('bad-input', 'loader.sourceMissing', { path: from }, { path: from });
      if (info.isDirectory()) return { writes: [], files: new Map(), uboot: await hostFile(join(from, 'u-boot.bin')) };
      if (from.endsWith('.deb')) {
        const files = (await filesFromDeb(board, new Uint8Array(await readFile(from)), from)).files;
        const uboot = files.get('u-boot.bin');
        if (!uboot) throw CardsmithError.keyed('bad-input', 'build.debNoUboot', { path: from, board: board.name }, { path: from });
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
    throw CardsmithError.keyed('bad-input', 'build.outputNotFile', { path: output }, { path: output });
  }
  const folder = dirname(output);
  const fs = await statfs(folder).catch(() => {
    throw CardsmithError.keyed('bad-input', 'build.noOutputFolder', { path: folder }, { path: folder });
  });
  const available = fs.bavail * fs.bsize;
  if (available < neededBytes) {
    throw CardsmithError.keyed('no-space', 'build.noSpace', { path: folder, available, needed: neededBytes }, {
      path: folder,
      neededBytes,
      availableBytes: available,
    });
  }
}
