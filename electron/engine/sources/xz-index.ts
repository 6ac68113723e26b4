/**
 * The xz container's index: the exact decompressed size of an .xz file without decoding it.
 *
 * An .xz file is one or more streams, each optionally followed by stream padding (zero bytes, a
 * multiple of 4). A stream is: 12-byte header, blocks, index, 12-byte footer. The footer ends in
 * "YZ" and holds Backward Size = (index size / 4) - 1, so the index is found from the end of the
 * file. The index lists, per block, its unpadded size and its uncompressed size as multibyte
 * integers (7 bits per byte, high bit = more follows). Blocks are padded to 4 bytes, so a stream's
 * start = footer start − index size − Σ round4(unpadded) − 12, which leads to the previous stream.
 */

export interface XzBlock {
  /** Offset of the block header in the file. */
  readonly offset: number;
  readonly unpaddedSize: number;
  readonly uncompressedSize: number;
}

export interface XzLayout {
  readonly uncompressedSize: number;
  readonly blocks: readonly XzBlock[];
}

/** Reads `length` bytes at `position` of the file. */
export type ReadAt = (position: number, length: number) => Promise<Uint8Array>;

const round4 = (value: number): number => Math.ceil(value / 4) * 4;

function readVarint(bytes: Uint8Array, position: number): { value: number; next: number } | null {
  let value = 0;
  for (let i = 0; i < 9; i++) {
    const byte = bytes[position + i];
    if (byte === undefined) return null;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value, next: position + i + 1 };
  }
  return null;
}

/** Parses one index (starting with its 0x00 indicator); null if it is not a well-formed index. */
export function parseIndexRecords(index: Uint8Array): { unpaddedSize: number; uncompressedSize: number }[] | null {
  if (index[0] !== 0x00) return null;
  const count = readVarint(index, 1);
  if (!count) return null;
  let position = count.next;
  const records: { unpaddedSize: number; uncompressedSize: number }[] = [];
  for (let i = 0; i < count.value; i++) {
    const unpadded = readVarint(index, position);
    if (!unpadded) return null;
    const uncompressed = readVarint(index, unpadded.next);
    if (!uncompressed) return null;
    records.push({ unpaddedSize: unpadded.value, uncompressedSize: uncompressed.value });
    position = uncompressed.next;
  }
  return records;
}

/** Walks the streams of an .xz file from its end; null when the layout cannot be read. */
export async function readXzLayout(fileSize: number, readAt: ReadAt): Promise<XzLayout | null> {
  const blocks: XzBlock[] = [];
  let end = fileSize;
  while (end > 0) {
    if (end < 4) return null;
    // Skip stream padding (4 zero bytes at a time).
    const tail = await readAt(end - 4, 4);
    if (tail.every((byte) => byte === 0)) {
      end -= 4;
      continue;
    }
    if (end < 24) return null;
    const footer = await readAt(end - 12, 12);
    if (footer[10] !== 0x59 || footer[11] !== 0x5a) return null;
    const backwardSize = ((footer[4]! | (footer[5]! << 8) | (footer[6]! << 16)) >>> 0) + footer[7]! * 2 ** 24;
    const indexSize = (backwardSize + 1) * 4;
    const indexStart = end - 12 - indexSize;
    if (indexStart < 12) return null;
    const records = parseIndexRecords(await readAt(indexStart, indexSize));
    if (!records) return null;
    const blocksSize = records.reduce((sum, record) => sum + round4(record.unpaddedSize), 0);
    const streamStart = indexStart - blocksSize - 12;
    if (streamStart < 0) return null;
    const streamBlocks: XzBlock[] = [];
    let offset = streamStart + 12;
    for (const record of records) {
      streamBlocks.push({ offset, ...record });
      offset += round4(record.unpaddedSize);
    }
    blocks.unshift(...streamBlocks);
    end = streamStart;
  }
  if (blocks.length === 0) return null;
  return { uncompressedSize: blocks.reduce((sum, block) => sum + block.uncompressedSize, 0), blocks };
}
