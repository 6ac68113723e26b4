/**
 * Loader placement: board profile + disk layout + loader file sizes → the ordered raw writes, or
 * a refusal. Pure. A loader write is a byte range [offset, offset + length) of the card that must
 * not overlap anything the card already needs: the MBR (bytes 0..511, except the boot-code bytes a
 * board declares writable — never 440..511, the disk signature, table and 0x55AA), the GPT header
 * (512..1023), the GPT entry arrays (wherever the header puts them), the backup GPT (the last 33
 * sectors) or any partition. The idea is genimage's check_overlap: an overlap is an error unless
 * the region is declared writable, and the message names both regions and their byte ranges.
 *
 * Also exported for table WRITERS (the image builder): where to put the GPT entry array so a
 * board's low loader (sunxi at 8 KiB, i.MX6 at 1 KiB) does not trample it — the relocated
 * `gpt-location` — and the lowest start the first partition may have.
 */
import type { DiskLayout, TableRegion } from '../disk/model';
import { CardsmithError } from '../errors';
import { message } from '../messages';
import type { Board, LoaderWrite, PartitionTableKind } from './model';

export const SECTOR = 512;
/** The MBR disk signature, reserved bytes, four entries and 0x55AA. */
export const MBR_TAIL = { start: 440, end: 512 } as const;
export const GPT_HEADER = { start: 512, end: 1024 } as const;
/** 128 entries × 128 bytes, the size every common tool writes. */
export const GPT_ENTRY_ARRAY_BYTES = 16_384;
/** Backup entry array + backup header. */
export const GPT_BACKUP_BYTES = 33 * SECTOR;
const STANDARD_ENTRY_ARRAY_START = 1024;

/** A named byte range [start, end) that a loader write must not touch. */
export interface Region {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/** One write to perform: `length` bytes of `file` from `sourceOffset`, at card byte `offset`. */
export interface PlannedWrite {
  readonly file: string;
  readonly offset: number;
  readonly sourceOffset: number;
  readonly length: number;
  /** End of the board's slot for this write (offset + maxBytes). */
  readonly slotEnd: number;
}

/** Byte size of each loader file, by the file name the board profile uses. */
export type LoaderSizes = ReadonlyMap<string, number>;

/** "bytes 8192..620543" — inclusive last byte, the way a person reads a range. */
export function describeRange(start: number, end: number): string {
  return `bytes ${start}..${end - 1}`;
}

const TABLE_REGION_NAMES: Record<TableRegion['what'], string> = {
  mbr: 'MBR disk signature and partition table',
  ebr: 'extended boot record',
  'gpt-primary-header': 'GPT header',
  'gpt-primary-entries': 'GPT entry array',
  'gpt-backup-entries': 'backup GPT entry array',
  'gpt-backup-header': 'backup GPT header',
};

/** Everything on the card a loader write must leave alone, for this board and layout. */
export function protectedRegions(board: Board, layout: DiskLayout): Region[] {
  const regions: Region[] = [];
  const writable = board.mbrWritable;
  if (!writable) regions.push({ name: 'MBR boot code', start: 0, end: MBR_TAIL.start });
  else {
    if (writable.start > 0) regions.push({ name: 'MBR boot code', start: 0, end: writable.start });
    if (writable.end < MBR_TAIL.start) regions.push({ name: 'MBR boot code', start: writable.end, end: MBR_TAIL.start });
  }
  regions.push({ name: TABLE_REGION_NAMES.mbr, ...MBR_TAIL });
  for (const region of layout.regions) {
    if (region.what === 'mbr') continue;
    regions.push({ name: TABLE_REGION_NAMES[region.what], start: region.start, end: region.end });
  }
  if (layout.table === 'gpt') {
    // A damaged header is still where the next tool will look: keep its places even if unread.
    if (!layout.regions.some((r) => r.what === 'gpt-primary-header')) regions.push({ name: 'GPT header', ...GPT_HEADER });
    if (!layout.regions.some((r) => r.what === 'gpt-backup-header')) {
      regions.push({ name: 'backup GPT', start: Math.max(0, layout.sizeBytes - GPT_BACKUP_BYTES), end: layout.sizeBytes });
    }
  }
  for (const partition of layout.partitions) {
    if (partition.size > 0) regions.push({ name: `partition ${partition.index}`, start: partition.start, end: partition.start + partition.size });
  }
  return regions;
}

/** The writes of the board, or of its alternative named `label`. */
export function chooseWrites(board: Board, label?: string): readonly LoaderWrite[] {
  if (label === undefined) return board.writes;
  const alternative = board.alternativeWrites.find((candidate) => candidate.label === label);
  if (!alternative) {
    throw CardsmithError.keyed('bad-input', 'loader.noLayout', { board: board.name, label }, {
      board: board.id,
      layouts: board.alternativeWrites.map((candidate) => candidate.label),
    });
  }
  return alternative.writes;
}

/**
 * Plans the loader writes for `board` onto a card with `layout`. Throws CardsmithError:
 * 'bad-input' (file missing from `sizes`, shorter than the slice, larger than its slot),
 * 'too-small' (write past the end of the card), 'overlap' (a write meets a table region, a
 * partition or another write; or the first partition starts before the board's minimum).
 */
export function planLoaderWrites(board: Board, layout: DiskLayout, sizes: LoaderSizes, writes: readonly LoaderWrite[] = board.writes): PlannedWrite[] {
  const planned = writes.map((write) => sizeWrite(board, write, sizes));
  planned.sort((a, b) => a.offset - b.offset);
  for (const write of planned) {
    const end = write.offset + write.length;
    if (end > layout.sizeBytes) {
      throw CardsmithError.keyed('too-small', 'planner.pastEnd', { file: write.file, start: write.offset, last: end - 1, cardBytes: layout.sizeBytes }, {
        file: write.file,
        start: write.offset,
        end,
        sizeBytes: layout.sizeBytes,
      });
    }
  }
  const regions = protectedRegions(board, layout);
  planned.forEach((write, i) => {
    const own: Region = { name: write.file, start: write.offset, end: write.offset + write.length };
    const others = planned.slice(0, i).map((earlier) => ({ name: earlier.file, start: earlier.offset, end: earlier.offset + earlier.length }));
    for (const region of [...regions, ...others]) {
      if (own.start < region.end && region.start < own.end) throw overlapError(board, own, region);
    }
  });
  checkFirstPartition(board, layout);
  return planned;
}

function sizeWrite(board: Board, write: LoaderWrite, sizes: LoaderSizes): PlannedWrite {
  const fileSize = sizes.get(write.file);
  if (fileSize === undefined) {
    throw CardsmithError.keyed('bad-input', 'planner.fileMissing', { board: board.name, file: write.file }, { board: board.id, file: write.file });
  }
  const available = fileSize - write.sourceOffsetBytes;
  const length = write.lengthBytes ?? available;
  if (length <= 0 || length > available) {
    throw CardsmithError.keyed('bad-input', 'planner.fileShort', { file: write.file, fileBytes: fileSize, slice: write.lengthBytes ?? 1, at: write.sourceOffsetBytes, board: board.name }, {
      file: write.file,
      fileBytes: fileSize,
      sourceOffset: write.sourceOffsetBytes,
      length: write.lengthBytes,
    });
  }
  if (length > write.maxBytes) {
    throw CardsmithError.keyed(
      'bad-input',
      'planner.slotTooSmall',
      { file: write.file, fileBytes: length, offset: write.offsetBytes, slotBytes: write.maxBytes },
      { file: write.file, fileBytes: length, slotBytes: write.maxBytes, offset: write.offsetBytes },
      { hint: message('planner.slotTooSmallHint') },
    );
  }
  return { file: write.file, offset: write.offsetBytes, sourceOffset: write.sourceOffsetBytes, length, slotEnd: write.offsetBytes + write.maxBytes };
}

function overlapError(board: Board, write: Region, region: Region): CardsmithError {
  return CardsmithError.keyed(
    'overlap',
    'planner.overlap',
    { board: board.name, write: write.name, writeStart: write.start, writeLast: write.end - 1, region: region.name, regionStart: region.start, regionLast: region.end - 1 },
    { board: board.id, write: write.name, writeStart: write.start, writeEnd: write.end, region: region.name, regionStart: region.start, regionEnd: region.end },
  );
}

function checkFirstPartition(board: Board, layout: DiskLayout): void {
  const used = layout.partitions.filter((partition) => partition.size > 0);
  if (used.length === 0 || layout.table === 'none') return;
  const first = used.reduce((low, partition) => (partition.start < low.start ? partition : low));
  const minimum = board.firstPartitionMinStart;
  if (first.start < minimum) {
    throw CardsmithError.keyed(
      'overlap',
      'planner.firstPartition',
      { partition: first.index, start: first.start, board: board.name, minimum, mib: minimum / 1_048_576 },
      { board: board.id, partition: first.index, start: first.start, minimum },
      { hint: message('planner.firstPartitionHint', { mib: minimum / 1_048_576 }) },
    );
  }
}

/** The card bytes [start, end) the board's loader slots can occupy (all writes, primary layout). */
function loaderSpan(writes: readonly LoaderWrite[]): { start: number; end: number } | null {
  if (writes.length === 0) return null;
  return {
    start: Math.min(...writes.map((write) => write.offsetBytes)),
    end: Math.max(...writes.map((write) => write.offsetBytes + write.maxBytes)),
  };
}

/**
 * For a table writer: the byte offset of the primary GPT entry array for this board — 1024 (LBA 2)
 * when the loader slots leave LBA 2..33 alone, otherwise the first sector past the loader slots
 * (genimage's gpt-location; the header stays at 512). Throws 'overlap' when the board cannot have
 * a GPT at all (its loader writes the GPT header, e.g. Amlogic, Exynos).
 */
export function gptEntryArrayStart(board: Board, writes: readonly LoaderWrite[] = board.writes): number {
  const span = loaderSpan(writes);
  if (!span) return STANDARD_ENTRY_ARRAY_START;
  const header = writes.find((write) => write.offsetBytes < GPT_HEADER.end && write.offsetBytes + write.maxBytes > GPT_HEADER.start);
  if (header) {
    throw CardsmithError.keyed('overlap', 'planner.noGpt', { board: board.name, file: header.file, start: GPT_HEADER.start, last: GPT_HEADER.end - 1 }, {
      board: board.id,
    });
  }
  const standardEnd = STANDARD_ENTRY_ARRAY_START + GPT_ENTRY_ARRAY_BYTES;
  const collides = writes.some((write) => write.offsetBytes < standardEnd && write.offsetBytes + write.maxBytes > STANDARD_ENTRY_ARRAY_START);
  if (!collides) return STANDARD_ENTRY_ARRAY_START;
  return Math.ceil(span.end / SECTOR) * SECTOR;
}

/**
 * For a table writer: the lowest byte the first partition may start at for this board and table —
 * the board's own minimum, and for GPT also the end of the (possibly relocated) entry array.
 */
export function minFirstPartitionStart(board: Board, table: Exclude<PartitionTableKind, 'gpt-moved-entries'>, writes: readonly LoaderWrite[] = board.writes): number {
  if (table === 'mbr') return Math.max(board.firstPartitionMinStart, SECTOR);
  return Math.max(board.firstPartitionMinStart, gptEntryArrayStart(board, writes) + GPT_ENTRY_ARRAY_BYTES);
}
