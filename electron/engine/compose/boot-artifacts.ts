/**
 * Finding what the boot partition copies out of the root filesystem, Debian-style: the kernel is
 * /boot/vmlinuz-<version> (the newest version wins), its initramfs /boot/initrd.img-<version>,
 * and the board's device tree under /usr/lib/linux-image-<version>/ or /boot/dtbs/[<version>/].
 * Only metadata is needed to choose (sizes plan the FAT); the bytes are captured while the root
 * filesystem writer streams contents past (`captureContents`), so the rootfs is read no extra time.
 */
import type { FileChunk } from '../sources/tar';
import type { DirNode, FileContent, FileNode, FsNode, FsTree } from '../fs/tree';

export interface FoundFile {
  /** Path inside the rootfs, no leading '/'. */
  readonly path: string;
  readonly node: FileNode;
}

export interface BootArtifacts {
  readonly version: string | null;
  readonly kernel: FoundFile | null;
  readonly initrd: FoundFile | null;
  readonly dtb: FoundFile | null;
}

function lookup(root: DirNode, path: string): FsNode | undefined {
  let node: FsNode | undefined = root;
  for (const part of path.split('/')) {
    if (node?.kind !== 'dir') return undefined;
    node = node.entries.get(part);
  }
  return node;
}

function fileAt(root: DirNode, path: string): FoundFile | null {
  const node = lookup(root, path);
  return node?.kind === 'file' ? { path, node } : null;
}

/** Compares Debian-ish kernel versions ("6.1.0-13-arm64") numerically part by part. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.\-+~]/);
  const pb = b.split(/[.\-+~]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    const diff = Number.isInteger(nx) && Number.isInteger(ny) && x !== '' && y !== '' ? nx - ny : x.localeCompare(y);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** Chooses kernel, initrd and `dtb` (board-relative, e.g. "broadcom/bcm2711-rpi-4-b.dtb"). */
export function findBootArtifacts(tree: FsTree, dtb: string | undefined): BootArtifacts {
  const boot = lookup(tree.root, 'boot');
  const versions =
    boot?.kind === 'dir'
      ? [...boot.entries.entries()].filter(([name, node]) => name.startsWith('vmlinuz-') && node.kind === 'file').map(([name]) => name.slice('vmlinuz-'.length))
      : [];
  const version = versions.sort(compareVersions).pop() ?? null;
  const kernel = version ? fileAt(tree.root, `boot/vmlinuz-${version}`) : null;
  const initrd = version ? fileAt(tree.root, `boot/initrd.img-${version}`) : null;
  const dtbPlaces = dtb
    ? [...(version ? [`usr/lib/linux-image-${version}/${dtb}`, `boot/dtbs/${version}/${dtb}`] : []), `boot/dtbs/${dtb}`, `boot/${dtb.split('/').pop()}`]
    : [];
  const found = dtbPlaces.map((path) => fileAt(tree.root, path)).find((file) => file !== null) ?? null;
  return { version, kernel, initrd, dtb: found };
}

/**
 * Passes `contents` through unchanged while keeping a copy of the files in `wanted`
 * (holes stay zero). The copies are complete once the stream has been consumed.
 */
export function captureContents(contents: AsyncIterable<FileContent>, wanted: ReadonlySet<FileNode>): { stream: AsyncIterable<FileContent>; captured: ReadonlyMap<FileNode, Uint8Array> } {
  const captured = new Map<FileNode, Uint8Array>();
  async function* tee(file: FileNode, chunks: AsyncIterable<FileChunk>): AsyncGenerator<FileChunk> {
    const copy = new Uint8Array(file.size);
    captured.set(file, copy);
    for await (const chunk of chunks) {
      copy.set(chunk.data.subarray(0, Math.max(0, file.size - chunk.offset)), chunk.offset);
      yield chunk;
    }
  }
  async function* stream(): AsyncGenerator<FileContent> {
    for await (const content of contents) {
      yield wanted.has(content.file) ? { file: content.file, chunks: tee(content.file, content.chunks) } : content;
    }
  }
  return { stream: stream(), captured };
}
