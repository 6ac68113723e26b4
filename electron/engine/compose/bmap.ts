/**
 * Block map output in bmaptool's format 2.0: the image is cut into 4 KiB blocks and the bmap lists
 * the runs of blocks that hold data or metadata (the byte ranges the block sink saw written),
 * each with the sha256 of its bytes; everything else is a hole the flasher may skip. The file
 * carries its own sha256, computed with that checksum's text replaced by 64 zeros.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { ByteRange } from '../fs/sink';

export const BMAP_BLOCK = 4096;

export interface BlockRun {
  readonly first: number;
  /** Inclusive. */
  readonly last: number;
}

/** Whole blocks covering the byte ranges, merged where they touch. */
export function blockRuns(ranges: readonly ByteRange[], imageSize: number, block = BMAP_BLOCK): BlockRun[] {
  const runs: BlockRun[] = [];
  for (const range of ranges) {
    const first = Math.floor(range.start / block);
    const last = Math.min(Math.ceil(Math.min(range.end, imageSize) / block), Math.ceil(imageSize / block)) - 1;
    if (last < first) continue;
    const previous = runs[runs.length - 1];
    if (previous && first <= previous.last + 1) runs[runs.length - 1] = { first: previous.first, last: Math.max(previous.last, last) };
    else runs.push({ first, last });
  }
  return runs;
}

/** The bmap document for runs with their sha256 hex digests. */
export function bmapXml(imageSize: number, runs: readonly (BlockRun & { readonly sha256: string })[], block = BMAP_BLOCK): string {
  const mapped = runs.reduce((sum, run) => sum + run.last - run.first + 1, 0);
  const zeros = '0'.repeat(64);
  const lines = [
    '<?xml version="1.0" ?>',
    '<!-- Block map written by Cardsmith: the blocks of this image that hold data or metadata. -->',
    '<bmap version="2.0">',
    `    <ImageSize> ${imageSize} </ImageSize>`,
    `    <BlockSize> ${block} </BlockSize>`,
    `    <BlocksCount> ${Math.ceil(imageSize / block)} </BlocksCount>`,
    `    <MappedBlocksCount> ${mapped} </MappedBlocksCount>`,
    '    <ChecksumType> sha256 </ChecksumType>',
    `    <BmapFileChecksum> ${zeros} </BmapFileChecksum>`,
    '    <BlockMap>',
    ...runs.map((run) => `        <Range chksum="${run.sha256}"> ${run.first === run.last ? run.first : `${run.first}-${run.last}`} </Range>`),
    '    </BlockMap>',
    '</bmap>',
    '',
  ];
  const draft = lines.join('\n');
  const checksum = createHash('sha256').update(draft).digest('hex');
  return draft.replace(`<BmapFileChecksum> ${zeros} </BmapFileChecksum>`, `<BmapFileChecksum> ${checksum} </BmapFileChecksum>`);
}

/** Reads each run back from the image and hashes it. */
export async function hashRuns(image: FileHandle, imageSize: number, runs: readonly BlockRun[], block = BMAP_BLOCK): Promise<(BlockRun & { sha256: string })[]> {
  const buffer = Buffer.alloc(4 * 1024 * 1024);
  const out: (BlockRun & { sha256: string })[] = [];
  for (const run of runs) {
    const hash = createHash('sha256');
    const end = Math.min(imageSize, (run.last + 1) * block);
    for (let at = run.first * block; at < end; ) {
      const { bytesRead } = await image.read(buffer, 0, Math.min(buffer.length, end - at), at);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      at += bytesRead;
    }
    out.push({ ...run, sha256: hash.digest('hex') });
  }
  return out;
}
