/** Builds real partition tables (the engine's MBR/GPT writers) on a sparse in-memory disk and reads them back as a DiskLayout. */
import { buildGpt } from '../../../electron/engine/disk/gpt';
import { buildMbr } from '../../../electron/engine/disk/mbr';
import type { DiskLayout } from '../../../electron/engine/disk/model';
import { readDiskLayout, type ReadAt } from '../../../electron/engine/disk/read-layout';

export const KiB = 1024;
export const MiB = 1024 * KiB;
const GUID = '3F0A8E8C-1B2D-4E5F-8A9B-0C1D2E3F4A5B';

/** A disk of `size` bytes holding only `pieces`; every other byte reads as zero. */
export function sparseDisk(size: number, pieces: readonly { offset: number; bytes: Uint8Array }[]): ReadAt {
  return async (offset, length) => {
    const out = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
    for (const piece of pieces) {
      const start = Math.max(offset, piece.offset);
      const end = Math.min(offset + out.length, piece.offset + piece.bytes.length);
      if (start < end) out.set(piece.bytes.subarray(start - piece.offset, end - piece.offset), start - offset);
    }
    return out;
  };
}

/** MBR layout with primary partitions given as [startBytes, sizeBytes]. */
export async function mbrLayout(size: number, partitions: readonly [number, number][]): Promise<DiskLayout> {
  const sector = buildMbr(0x12345678, partitions.map(([start, bytes]) => ({ bootable: false, type: 0x83, startLba: start / 512, sectors: bytes / 512 })));
  return readDiskLayout(sparseDisk(size, [{ offset: 0, bytes: sector }]), size);
}

/** GPT layout; `entriesLba` moves the entry array like genimage's gpt-location. */
export async function gptLayout(size: number, partitions: readonly [number, number][], entriesLba = 2): Promise<DiskLayout> {
  const built = buildGpt({
    diskSectors: size / 512,
    diskGuid: GUID,
    entriesLba,
    partitions: partitions.map(([start, bytes], i) => ({
      typeGuid: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
      uniqueGuid: `3F0A8E8C-1B2D-4E5F-8A9B-0C1D2E3F4A6${i}`,
      firstLba: start / 512,
      lastLba: (start + bytes) / 512 - 1,
      name: `p${i + 1}`,
    })),
  });
  return readDiskLayout(sparseDisk(size, built.writes), size);
}
