/**
 * Card files on the host: a card (loop device) copied to a sparse file the way a card reader
 * would read it, a power-of-two qcow2 overlay that QEMU boots instead of the card file (QEMU's SD
 * model accepts only power-of-two sizes, and the artefact under test must never be written),
 * and the MBR partition entries (bytes 446..509, four 16-byte entries) needed to find the FAT.
 */
import { execFile } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CHUNK = 4 * 1024 * 1024;

export function nextPowerOfTwo(bytes: number): number {
  let size = 1;
  while (size < bytes) size *= 2;
  return size;
}

/**
 * Copies a file or block device to `dest` until end of input, leaving all-zero chunks as holes.
 * Written beside `dest` under a temporary name and renamed when complete. Returns the size.
 */
export function copySparse(source: string, dest: string): number {
  const temp = `${dest}.partial`;
  const input = openSync(source, 'r');
  const output = openSync(temp, 'w');
  const buffer = Buffer.alloc(CHUNK);
  let position = 0;
  try {
    for (;;) {
      const read = readSync(input, buffer, 0, CHUNK, position);
      if (read === 0) break;
      const chunk = buffer.subarray(0, read);
      if (chunk.some((byte) => byte !== 0)) writeSync(output, chunk, 0, read, position);
      position += read;
    }
    ftruncateSync(output, position);
  } finally {
    closeSync(input);
    closeSync(output);
  }
  renameSync(temp, dest);
  return position;
}

/** A qcow2 overlay over `backing` (absolute path, raw format) with the given virtual size. */
export async function createOverlay(backing: string, overlay: string, virtualBytes: number): Promise<void> {
  const absolute = isAbsolute(backing) ? backing : resolve(backing);
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', absolute, '-F', 'raw', overlay, String(virtualBytes)]);
}

export interface MbrPartition {
  readonly index: number;
  readonly type: number;
  readonly bootable: boolean;
  readonly startBytes: number;
  readonly sizeBytes: number;
}

/** The used primary entries of an MBR sector; throws when the 0x55AA signature is missing. */
export function mbrPartitions(sector: Buffer): readonly MbrPartition[] {
  if (sector.readUInt16LE(510) !== 0xaa55) throw new Error('no MBR signature (0x55AA at byte 510)');
  const partitions: MbrPartition[] = [];
  for (let index = 0; index < 4; index += 1) {
    const entry = sector.subarray(446 + index * 16, 462 + index * 16);
    const type = entry[4]!;
    const sectors = entry.readUInt32LE(12);
    if (type === 0 || sectors === 0) continue;
    partitions.push({ index: index + 1, type, bootable: entry[0] === 0x80, startBytes: entry.readUInt32LE(8) * 512, sizeBytes: sectors * 512 });
  }
  return partitions;
}

export function readAt(path: string, position: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, position);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}
