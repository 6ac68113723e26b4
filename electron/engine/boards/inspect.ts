/**
 * The `inspect` operation: what is on an image or card — its partition table and partitions
 * (with the filesystem recognised from its superblock), every loader signature at the offsets
 * boards use, and which boards of the database the card is consistent with: every header one of
 * the board's layouts puts on the card (a combined file's inner U-Boot included) is found, of the
 * kind the board expects and valid (payload checksums included), at its offset; the device trees a
 * loader names (sunxi SPL, FIT configurations) include the board's; an i.MX header's SoC is the
 * board's; and the partition table and first partition respect the board's rules.
 *
 * A raw image or a device is read where needed. A compressed image, a URL or a catalog id is a
 * stream with no random access: only its decoded start is read (HEAD_BYTES, enough for MBR/GPT
 * and every loader offset), then the first sectors of partitions that start within
 * PARTITION_WINDOW_BYTES. Whatever lies beyond — the backup GPT in the last sectors, later
 * partitions — is listed in the result's `notes` rather than guessed.
 */
import { open, stat } from 'node:fs/promises';
import type { ResultOf } from '../api';
import type { DiskLayout, Inspection, LoaderFound, Partition } from '../disk/model';
import { readDiskLayout, type ReadAt } from '../disk/read-layout';
import { CardsmithError } from '../errors';
import type { JobContext } from '../job';
import { ByteReader } from '../sources/byte-reader';
import { detectFormat, MAGIC_BYTES } from '../sources/decompress';
import { isHttpUrl } from '../shared/pure';
import type { ImageInfo } from '../sources/model';
import { openImageRef } from '../sources/source-operations';
import { listBoards } from './db';
import { scanLoaders, type Detected, type LoaderKind } from './detect';
import { readerOf, targetSize } from './target-io';
import type { Board, LoaderWrite } from './model';
import { summariseCustomisation } from '../customise/firstboot/summary';
import type { CustomisationSummary } from '../customise/firstboot/summary-model';
import type { Customise } from '../customise/model';

const MiB = 1 << 20;
/** Decoded bytes read from the start of a streamed image: MBR/GPT and every loader offset (the furthest, 8 MiB). */
export const HEAD_BYTES = 16 * MiB;
/** How far into a streamed image partitions still get their first sectors read (filesystem, label). */
export const PARTITION_WINDOW_BYTES = 256 * MiB;
const SUPERBLOCK_BYTES = 4096;

/** What a board's loader file shows on the card: a header of one of `kinds` at card byte `at`. */
export interface Expected {
  readonly at: number;
  readonly kinds: readonly LoaderKind[];
  /** i.MX: a full U-Boot booted by the ROM carries a DCD (DDR set-up); an SPL does not need one. */
  readonly dcd?: boolean;
}

const ROCKCHIP_UBOOT_DEFAULT = 8 * MiB;
const SUNXI_SPL_PAD = 32 * 1024;

/**
 * The headers a loader write puts on the card: its own, and for combined files the U-Boot proper
 * inside (sunxi: SPL padded to 32 KiB, then U-Boot; Rockchip: idbloader, then u-boot.itb where the
 * board's split layout puts it, 8 MiB by default). 64-bit builds load a FIT; 32-bit ones either.
 * Null when the file has no header we recognise.
 */
export function expectedHeaders(board: Board, write: LoaderWrite): readonly Expected[] | null {
  const proper: readonly LoaderKind[] = board.arch === 'aarch64' ? ['uboot-fit'] : ['uboot-fit', 'uboot-uimage'];
  const at = write.offsetBytes;
  switch (write.file) {
    case 'u-boot-sunxi-with-spl.bin':
      return [
        { at, kinds: ['allwinner-egon'] },
        { at: at + SUNXI_SPL_PAD, kinds: proper },
      ];
    case 'sunxi-spl.bin':
      return [{ at, kinds: ['allwinner-egon'] }];
    case 'idbloader.img':
      return [{ at, kinds: ['rockchip-idbloader'] }];
    case 'u-boot-rockchip.bin': {
      const split = board.writes.find((w) => w.file === 'u-boot.itb' || w.file === 'u-boot.img');
      return [
        { at, kinds: ['rockchip-idbloader'] },
        { at: split?.offsetBytes ?? ROCKCHIP_UBOOT_DEFAULT, kinds: proper },
      ];
    }
    case 'SPL':
    case 'flash.bin':
      return [{ at, kinds: ['imx-ivt'] }];
    case 'u-boot-dtb.imx':
      return [{ at, kinds: ['imx-ivt'], dcd: true }];
    case 'MLO':
      return [{ at, kinds: ['ti-toc'] }];
    case 'u-boot.itb':
    case 'u-boot-sunxi-with-spl.fit.itb':
      return [{ at, kinds: ['uboot-fit'] }];
    case 'u-boot.img':
      // Rockchip names its FIT u-boot.itb; its u-boot.img is the legacy image (rk3288).
      return [{ at, kinds: board.family === 'rockchip' ? ['uboot-uimage'] : ['uboot-fit', 'uboot-uimage'] }];
    case 'u-boot.bin.sd.bin':
      return at === 512 ? [{ at, kinds: ['amlogic-bl2'] }] : null;
    default:
      return null;
  }
}

const dtbStem = (dtb: string | undefined): string | null => (dtb ? (dtb.split('/').pop() ?? '').replace(/\.dtb$/, '') : null);

/** A device tree a loader names fits the board's: the same, or a revision of it (imx6q-wandboard-revd1). */
function namesBoardTree(board: Board, names: readonly string[]): boolean {
  const stem = dtbStem(board.dtb);
  return stem !== null && names.some((name) => name === stem || name.startsWith(`${stem}-rev`));
}

function socFits(board: Board, soc: string): boolean {
  return new RegExp(`${soc.replace(/\./g, '\\.')}(?![0-9])`).test(board.soc);
}

function layoutMatches(board: Board, writes: readonly LoaderWrite[], loaders: readonly Detected[]): boolean {
  let recognised = 0;
  for (const write of writes) {
    for (const expected of expectedHeaders(board, write) ?? []) {
      const hit = loaders.find((loader) => loader.offset === expected.at && loader.valid && expected.kinds.includes(loader.kind));
      if (!hit) return false;
      if (hit.deviceTrees && !namesBoardTree(board, hit.deviceTrees)) return false;
      if (hit.soc && !socFits(board, hit.soc)) return false;
      if (expected.dcd && !hit.dcd) return false;
      recognised++;
    }
  }
  return recognised > 0;
}

/** Boards whose loader layout and partition rules agree with what the card holds. */
export function consistentBoards(layout: DiskLayout, loaders: readonly Detected[], boards: readonly Board[]): string[] {
  const matches: string[] = [];
  for (const board of boards) {
    if (board.bootMethod !== 'raw-offset') continue;
    const layouts = [{ writes: board.writes, tables: board.partitionTables }, ...board.alternativeWrites.map((alt) => ({ writes: alt.writes, tables: alt.partitionTables ?? board.partitionTables }))];
    const first = layout.partitions.filter((partition) => partition.size > 0).reduce<Partition | null>((low, p) => (low === null || p.start < low.start ? p : low), null);
    if (first && first.start < board.firstPartitionMinStart) continue;
    const fits = layouts.some((candidate) => {
      if (layout.table === 'gpt') {
        const moved = (layout.gpt?.entriesLba ?? 2) !== 2;
        const allowed = candidate.tables.includes('gpt') || (moved && candidate.tables.includes('gpt-moved-entries'));
        if (!allowed) return false;
      }
      return layoutMatches(board, candidate.writes, loaders);
    });
    if (fits) matches.push(board.id);
  }
  return matches;
}

/** Recognises ext2/3/4, FAT and swap from the first sectors of a partition. */
export function filesystemOf(head: Uint8Array): string | undefined {
  const at = (i: number): number => head[i] ?? 0;
  if (head.length >= 1082 && at(1080) === 0x53 && at(1081) === 0xef) {
    const compat = at(1116) | (at(1117) << 8);
    const incompat = at(1120) | (at(1121) << 8);
    if (incompat & 0x40 || incompat & 0x200) return 'ext4';
    return compat & 0x4 ? 'ext3' : 'ext2';
  }
  const text = (start: number, length: number): string => String.fromCharCode(...head.subarray(start, start + length));
  if (at(510) === 0x55 && at(511) === 0xaa) {
    if (text(82, 5) === 'FAT32') return 'vfat';
    if (text(54, 5) === 'FAT16' || text(54, 5) === 'FAT12') return 'vfat';
  }
  if (head.length >= 4096 && text(4086, 10) === 'SWAPSPACE2') return 'swap';
  return undefined;
}

function fatLabel(head: Uint8Array): string | undefined {
  const text = (start: number, length: number): string => String.fromCharCode(...head.subarray(start, start + length)).trim();
  const label = text(82, 5) === 'FAT32' ? text(71, 11) : text(43, 11);
  return label && label !== 'NO NAME' ? label : undefined;
}

function extLabel(head: Uint8Array): string | undefined {
  const bytes = head.subarray(1024 + 120, 1024 + 136);
  const end = bytes.indexOf(0);
  const label = new TextDecoder().decode(end >= 0 ? bytes.subarray(0, end) : bytes);
  return label || undefined;
}

/** Inspects a readable disk: pure apart from the reads. */
export async function inspectDisk(target: string, read: ReadAt, sizeBytes: number, boards: readonly Board[] = listBoards()): Promise<Inspection> {
  const layout = await readDiskLayout(read, sizeBytes);
  const partitions: Partition[] = [];
  for (const partition of layout.partitions) {
    const head = partition.size >= 4096 ? await read(partition.start, 4096) : new Uint8Array(0);
    const filesystem = filesystemOf(head);
    const label = filesystem === 'vfat' ? fatLabel(head) : filesystem?.startsWith('ext') ? extLabel(head) : undefined;
    partitions.push({ ...partition, ...(filesystem ? { filesystem } : {}), ...(label ? { label } : {}) });
  }
  const detected = await scanLoaders(read, sizeBytes);
  const loaders: LoaderFound[] = detected.map(({ kind, offset, length, valid, detail }) => ({ kind, offset, ...(length === undefined ? {} : { length }), valid, detail }));
  return {
    target,
    sizeBytes,
    table: layout.table,
    ...(layout.diskId ? { diskId: layout.diskId } : {}),
    partitions,
    loaders,
    consistentBoards: consistentBoards(layout, detected, boards),
  };
}

/** The `inspect` operation: an image file, device, compressed image, URL or catalog id. */
export async function inspectSource(target: string, ctx: JobContext, plan?: { settings: Customise; initFormat?: string }): Promise<ResultOf<'inspect'>> {
  if (!isHttpUrl(target) && (await isRawFileOrDevice(target))) {
    const inspection = await inspectTarget(target);
    const customisation = await customisationOf(target, plan);
    return { inspection, customisation };
  }
  return inspectStream(target, ctx);
}

/** Inspects an uncompressed image file or a block device, reading where needed. */
export async function inspectTarget(target: string): Promise<Inspection> {
  await stat(target).catch(() => {
    throw CardsmithError.keyed('bad-input', 'file.missing', { path: target }, { path: target });
  });
  const handle = await open(target, 'r');
  try {
    const { size } = await targetSize(target, handle);
    return await inspectDisk(target, readerOf(handle), size);
  } finally {
    await handle.close();
  }
}

/** The first-boot settings an image file or device carries in its boot FAT, if it has one. */
async function customisationOf(target: string, plan: { settings: Customise; initFormat?: string } | undefined): Promise<CustomisationSummary> {
  const handle = await open(target, 'r');
  try {
    return await summariseCustomisation(readerOf(handle), (await targetSize(target, handle)).size, plan);
  } finally {
    await handle.close();
  }
}

/** True for an uncompressed image file or a block device; false for anything the source module opens. */
async function isRawFileOrDevice(target: string): Promise<boolean> {
  const info = await stat(target).catch(() => null);
  // Not a file: a catalog id, or a mistake that the source module names.
  if (info === null) return false;
  if (info.isBlockDevice()) return true;
  const handle = await open(target, 'r');
  try {
    const head = new Uint8Array(MAGIC_BYTES);
    const { bytesRead } = await handle.read(head, 0, MAGIC_BYTES, 0);
    return detectFormat(head.subarray(0, bytesRead)) === 'none';
  } finally {
    await handle.close();
  }
}

/** Decoded byte ranges of a streamed image: the head, plus the first sectors of later partitions. */
class DecodedWindow {
  private readonly pieces: { readonly start: number; readonly bytes: Uint8Array }[] = [];

  add(start: number, bytes: Uint8Array): void {
    this.pieces.push({ start, bytes });
  }

  /** Bytes at `offset` that lie inside one piece; short or empty where nothing was decoded. */
  readonly read: ReadAt = async (offset, length) => {
    const piece = this.pieces.find((p) => offset >= p.start && offset < p.start + p.bytes.length);
    return piece ? piece.bytes.subarray(offset - piece.start, offset - piece.start + length) : new Uint8Array(0);
  };
}

async function inspectStream(target: string, ctx: JobContext): Promise<ResultOf<'inspect'>> {
  const opened = await openImageRef(target, ctx);
  const reader = new ByteReader(opened.stream());
  try {
    const head = await reader.readExact(HEAD_BYTES);
    const ended = head.length < HEAD_BYTES;
    const window = new DecodedWindow();
    window.add(0, head);
    const known = ended ? { bytes: head.length, estimate: false } : knownSize(opened.info, opened.bmap?.imageSize ?? null);
    const provisional = await readDiskLayout(window.read, known?.bytes ?? Number.MAX_SAFE_INTEGER);
    const notes: string[] = [];
    const unread: Partition[] = [];
    for (const partition of [...provisional.partitions].sort((a, b) => a.start - b.start)) {
      if (partition.start + SUPERBLOCK_BYTES <= head.length) continue;
      if (partition.start + SUPERBLOCK_BYTES > PARTITION_WINDOW_BYTES || reader.offset > partition.start) {
        unread.push(partition);
        continue;
      }
      await reader.skip(partition.start - reader.offset);
      window.add(partition.start, await reader.readExact(SUPERBLOCK_BYTES));
    }
    const decoded = reader.offset;
    const sizeBytes = known?.bytes ?? provisional.partitions.reduce((end, p) => Math.max(end, p.start + p.size), decoded);
    const inspection = await inspectDisk(target, window.read, sizeBytes);

    if (!ended) notes.push(`Only the first ${decoded} bytes of the decompressed image were read (enough for the partition table and loaders).`);
    if (known === null) notes.push(`The image size is not recorded in the ${opened.info.compression} file; the size shown is the end of the last partition.`);
    else if (known.estimate) notes.push(`The image size is an estimate from the ${opened.info.compression} header.`);
    if (inspection.table === 'gpt' && !ended) {
      notes.push('The backup GPT in the last sectors of the image was not checked: that needs decompressing the whole image.');
    }
    for (const partition of unread) {
      notes.push(`Partition ${partition.index} starts at byte ${partition.start}; its first sectors were not decoded (filesystems are read only within the first ${PARTITION_WINDOW_BYTES} bytes), so its filesystem was not identified.`);
    }
    const image: ImageInfo = { ...opened.info, ...(ended ? { sizeBytes: head.length, sizeIsEstimate: false } : {}) };
    return { inspection: { ...inspection, ...(notes.length ? { notes } : {}) }, image };
  } finally {
    await reader.close();
    opened.close();
  }
}

/** The decoded size when the source says it (exactly or as an estimate); a bmap states it exactly. */
function knownSize(info: ImageInfo, bmapSize: number | null): { readonly bytes: number; readonly estimate: boolean } | null {
  if (info.sizeBytes !== null && !info.sizeIsEstimate) return { bytes: info.sizeBytes, estimate: false };
  if (bmapSize !== null) return { bytes: bmapSize, estimate: false };
  return info.sizeBytes !== null ? { bytes: info.sizeBytes, estimate: true } : null;
}
