/**
 * The boot partition's file tree, by board kind:
 * - Raspberry Pi (firmware-files): the firmware from --boot-files, config.txt from the board
 *   profile (`kernel=u-boot.bin`), U-Boot itself, the board's device tree in the FAT root (the
 *   firmware loads it and hands it to U-Boot), plus kernel, initrd and extlinux.conf for U-Boot.
 * - U-Boot boards (raw-offset, none): kernel, initrd, /dtbs/<board dtb> and
 *   /extlinux/extlinux.conf.
 * Any --boot-files folder is copied in first; generated files replace same-named ones.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Board } from '../boards/model';
import { CardsmithError } from '../errors';
import type { FatDir, FatFile, FatNode } from '../fs/fat/layout';
import { configTxt, extlinuxConf } from './boot-config';

/** A file for the boot partition whose bytes come later (captured from the rootfs, or read from the host). */
export interface BootFile {
  readonly size: number;
  readonly content: () => AsyncIterable<Uint8Array>;
}

export function bytesFile(bytes: Uint8Array): BootFile {
  return {
    size: bytes.length,
    async *content() {
      yield bytes;
    },
  };
}

export async function hostFile(path: string): Promise<BootFile> {
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) throw CardsmithError.keyed('bad-input', 'file.notFile', { path }, { path });
  return { size: info.size, content: () => createReadStream(path, { highWaterMark: 1 << 20 }) };
}

/** Reads a host folder into FAT nodes (contents are read lazily while writing). */
export async function hostFolder(path: string, mtime: number): Promise<FatNode[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => {
    throw CardsmithError.keyed('bad-input', 'build.bootFilesUnreadable', { path }, { path });
  });
  const nodes: FatNode[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = join(path, entry.name);
    const info = await stat(full);
    if (info.isDirectory()) nodes.push({ kind: 'dir', name: entry.name, mtime, children: await hostFolder(full, mtime) });
    else if (info.isFile()) nodes.push({ kind: 'file', name: entry.name, size: info.size, mtime, content: () => createReadStream(full, { highWaterMark: 1 << 20 }) });
  }
  return nodes;
}

export interface BootTreeInput {
  readonly board: Board;
  readonly mtime: number;
  readonly hostFiles: readonly FatNode[];
  readonly kernel: BootFile | null;
  readonly kernelName: string;
  readonly initrd: BootFile | null;
  readonly initrdName: string;
  readonly dtb: BootFile | null;
  /** U-Boot for firmware-files boards (null: it must be among the --boot-files). */
  readonly uboot: BootFile | null;
  readonly append: string;
}

/** Puts `node` at `path` (a/b/c) under `root`, creating folders, replacing a same-named entry. */
function put(root: FatNode[], path: string, file: BootFile, mtime: number): void {
  const parts = path.split('/');
  const name = parts.pop()!;
  let level = root;
  for (const part of parts) {
    let dir = level.find((n): n is FatDir => n.kind === 'dir' && n.name.toUpperCase() === part.toUpperCase());
    if (!dir) {
      dir = { kind: 'dir', name: part, mtime, children: [] };
      level.push(dir);
    }
    level = dir.children as FatNode[];
  }
  const at = level.findIndex((n) => n.name.toUpperCase() === name.toUpperCase());
  const node: FatFile = { kind: 'file', name, size: file.size, mtime, content: file.content };
  if (at >= 0) level[at] = node;
  else level.push(node);
}

function deepCopy(nodes: readonly FatNode[]): FatNode[] {
  return nodes.map((n) => (n.kind === 'dir' ? { ...n, children: deepCopy(n.children) } : n));
}

export function bootTree(input: BootTreeInput): FatDir {
  const { board, mtime } = input;
  const children = deepCopy(input.hostFiles);
  if (!input.kernel) {
    throw CardsmithError.keyed('bad-input', 'build.noKernel', {}, { board: board.id });
  }
  put(children, input.kernelName, input.kernel, mtime);
  if (input.initrd) put(children, input.initrdName, input.initrd, mtime);
  const dtbName = board.dtb;
  let fdt: string | undefined;
  if (dtbName && !input.dtb) {
    throw CardsmithError.keyed('bad-input', 'build.noDtb', { dtb: dtbName, board: board.name }, { board: board.id, dtb: dtbName });
  }
  if (board.bootMethod === 'firmware-files') {
    // The firmware loads the device tree from the FAT root and passes it on to U-Boot. Its default
    // file names follow the vendor kernel (bcm2710-…), not the upstream ones (bcm2837-…), so the
    // file placed here is named explicitly with device_tree=.
    const dtbFile = input.dtb && dtbName ? dtbName.split('/').pop()! : undefined;
    if (input.dtb && dtbFile) put(children, dtbFile, input.dtb, mtime);
    if (input.uboot) put(children, 'u-boot.bin', input.uboot, mtime);
    else if (!children.some((n) => n.kind === 'file' && n.name.toLowerCase() === 'u-boot.bin')) {
      throw CardsmithError.keyed('bad-input', 'build.noUboot', { board: board.name }, { board: board.id });
    }
    const configLines = [...board.bootPartition.configTxt, ...(dtbFile ? [`device_tree=${dtbFile}`] : [])];
    put(children, 'config.txt', bytesFile(new TextEncoder().encode(configTxt(configLines, board.name))), mtime);
    const missing = board.bootPartition.firmwareFiles.filter((name) => !children.some((n) => n.kind === 'file' && n.name.toLowerCase() === name.toLowerCase()));
    if (missing.length > 0) {
      throw CardsmithError.keyed('bad-input', 'build.noFirmware', { board: board.name, files: missing.join(', ') }, { board: board.id, missing });
    }
  } else if (input.dtb && dtbName) {
    fdt = `/dtbs/${dtbName}`;
    put(children, fdt.slice(1), input.dtb, mtime);
  }
  const conf = extlinuxConf({
    title: board.name,
    kernel: `/${input.kernelName}`,
    ...(input.initrd ? { initrd: `/${input.initrdName}` } : {}),
    ...(fdt ? { fdt } : {}),
    append: input.append,
  });
  put(children, 'extlinux/extlinux.conf', bytesFile(new TextEncoder().encode(conf)), mtime);
  return { kind: 'dir', name: '', mtime, children };
}
