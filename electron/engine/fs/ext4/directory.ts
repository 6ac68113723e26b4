/**
 * Linear ext4 directories: blocks of variable-length entries (inode, rec_len, name_len,
 * file_type, name padded to 4 bytes); the last entry of a block stretches its rec_len to the
 * block's end. With metadata_csum each block ends in a 12-byte fake entry (inode 0, rec_len 12,
 * file_type 0xDE) holding the CRC32C of the block. No htree index: e2fsck and the kernel accept
 * linear directories of any size, and lookups in a rootfs are cached anyway.
 */
import { crc32c } from './crc32c';
import { BLOCK_SIZE } from './geometry';

export interface DirEntry {
  readonly name: Uint8Array;
  readonly ino: number;
  /** ext4 dirent file type: 1 file, 2 dir, 3 char, 4 block, 5 fifo, 6 socket, 7 symlink. */
  readonly type: number;
}

const TAIL = 12;
const CAPACITY = BLOCK_SIZE - TAIL;

export function entrySize(nameLength: number): number {
  return (8 + nameLength + 3) & ~3;
}

/** Splits entries ('.' and '..' first) into blocks; `minBlocks` pads with empty blocks. */
export function packDirectory(entries: readonly DirEntry[], minBlocks = 1): DirEntry[][] {
  const blocks: DirEntry[][] = [[]];
  let used = 0;
  for (const entry of entries) {
    const size = entrySize(entry.name.length);
    if (used + size > CAPACITY) {
      blocks.push([]);
      used = 0;
    }
    blocks[blocks.length - 1]!.push(entry);
    used += size;
  }
  while (blocks.length < minBlocks) blocks.push([]);
  return blocks;
}

/** One directory block with its checksum tail; `seed` is the inode's checksum seed. */
export function encodeDirBlock(entries: readonly DirEntry[], seed: number): Uint8Array {
  const block = new Uint8Array(BLOCK_SIZE);
  const view = new DataView(block.buffer);
  let at = 0;
  if (entries.length === 0) {
    // An empty block is one unused entry spanning it.
    view.setUint16(4, CAPACITY, true);
  }
  entries.forEach((entry, i) => {
    const size = i === entries.length - 1 ? CAPACITY - at : entrySize(entry.name.length);
    view.setUint32(at, entry.ino, true);
    view.setUint16(at + 4, size, true);
    block[at + 6] = entry.name.length;
    block[at + 7] = entry.type;
    block.set(entry.name, at + 8);
    at += size;
  });
  view.setUint16(CAPACITY + 4, TAIL, true);
  block[CAPACITY + 7] = 0xde;
  view.setUint32(CAPACITY + 8, crc32c(seed, block.subarray(0, CAPACITY)), true);
  return block;
}
