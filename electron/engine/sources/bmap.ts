/**
 * Block maps (bmaptool's .bmap XML, format 1.x and 2.0): which blocks of an image hold data.
 *
 * An image is BlocksCount blocks of BlockSize bytes (the last one possibly short: ImageSize need
 * not be a multiple). Only the listed ranges ("mapped" blocks) need writing; the rest are holes the
 * image author declared unimportant. Each range may carry a checksum of its bytes — `sha1` attribute
 * in 1.x, `chksum` plus a file-wide <ChecksumType> in 2.0 — and the file itself carries a checksum
 * (<BmapFileSHA1> / <BmapFileChecksum>) computed with that field's value replaced by ASCII zeros.
 * Ranges are inclusive block numbers ("first-last" or a single "n").
 */
import { createHash } from 'node:crypto';
import { CardsmithError } from '../errors';

export type BmapChecksumType = 'sha1' | 'sha256';

export interface BmapRange {
  /** First and last block, inclusive. */
  readonly first: number;
  readonly last: number;
  readonly checksum?: string;
}

export interface Bmap {
  readonly version: string;
  readonly imageSize: number;
  readonly blockSize: number;
  readonly blocksCount: number;
  readonly mappedBlocksCount: number;
  readonly checksumType: BmapChecksumType | null;
  readonly ranges: readonly BmapRange[];
}

function bad(message: string, details: Record<string, unknown> = {}): CardsmithError {
  return new CardsmithError('bad-input', `Invalid bmap file: ${message}`, details);
}

function element(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>\\s*([^<]*?)\\s*</${name}>`).exec(xml);
  return match?.[1];
}

function integer(xml: string, name: string): number {
  const text = element(xml, name);
  if (text === undefined) throw bad(`<${name}> is missing`);
  if (!/^\d+$/.test(text)) throw bad(`<${name}> is not a whole number: "${text}"`);
  return Number(text);
}

/** Parses and checks a bmap file; the file checksum is verified when present. */
export function parseBmap(xml: string): Bmap {
  const version = /<bmap\s+version\s*=\s*"(\d+)\.(\d+)"/.exec(xml);
  if (!version) throw bad('no <bmap version="…"> element');
  const major = Number(version[1]);
  if (major !== 1 && major !== 2) throw bad(`format version ${version[1]}.${version[2]} is not supported (1.x and 2.x are)`);

  const imageSize = integer(xml, 'ImageSize');
  const blockSize = integer(xml, 'BlockSize');
  const blocksCount = integer(xml, 'BlocksCount');
  const mappedBlocksCount = integer(xml, 'MappedBlocksCount');
  if (blockSize === 0) throw bad('<BlockSize> is zero');
  if (Math.ceil(imageSize / blockSize) !== blocksCount) {
    throw bad(`<BlocksCount> ${blocksCount} does not match ImageSize ${imageSize} / BlockSize ${blockSize}`);
  }

  const checksumType = major === 1 ? 'sha1' : parseChecksumType(element(xml, 'ChecksumType'));
  verifyFileChecksum(xml, major === 1 ? 'BmapFileSHA1' : 'BmapFileChecksum', checksumType);

  const attribute = major === 1 ? 'sha1' : 'chksum';
  const ranges: BmapRange[] = [];
  const blockMap = /<BlockMap>([\s\S]*?)<\/BlockMap>/.exec(xml);
  if (!blockMap) throw bad('<BlockMap> is missing');
  const rangePattern = /<Range([^>]*)>\s*([^<]*?)\s*<\/Range>/g;
  let mapped = 0;
  let previousLast = -1;
  for (const match of blockMap[1]!.matchAll(rangePattern)) {
    const text = match[2]!;
    const bounds = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(text);
    if (!bounds) throw bad(`range "${text}" is not "first-last" or a block number`);
    const first = Number(bounds[1]);
    const last = bounds[2] === undefined ? first : Number(bounds[2]);
    if (last < first) throw bad(`range "${text}" ends before it starts`);
    if (first <= previousLast) throw bad(`range "${text}" overlaps or precedes the range before it`);
    if (last >= blocksCount) throw bad(`range "${text}" goes past the last block ${blocksCount - 1}`);
    const checksum = new RegExp(`\\b${attribute}\\s*=\\s*"([0-9a-fA-F]+)"`).exec(match[1]!)?.[1]?.toLowerCase();
    ranges.push(checksum === undefined ? { first, last } : { first, last, checksum });
    mapped += last - first + 1;
    previousLast = last;
  }
  if (mapped !== mappedBlocksCount) throw bad(`the ranges map ${mapped} blocks but <MappedBlocksCount> says ${mappedBlocksCount}`);
  return { version: `${version[1]}.${version[2]}`, imageSize, blockSize, blocksCount, mappedBlocksCount, checksumType, ranges };
}

function parseChecksumType(text: string | undefined): BmapChecksumType {
  if (text === 'sha256' || text === 'sha1') return text;
  throw bad(`<ChecksumType> "${text ?? ''}" is not sha256 or sha1`);
}

function verifyFileChecksum(xml: string, field: string, type: BmapChecksumType): void {
  const pattern = new RegExp(`(<${field}>\\s*)([0-9a-fA-F]+)(\\s*</${field}>)`);
  const match = pattern.exec(xml);
  if (!match) return;
  const expected = match[2]!.toLowerCase();
  const zeroed = xml.replace(pattern, (_all, open: string, value: string, close: string) => `${open}${'0'.repeat(value.length)}${close}`);
  const actual = createHash(type).update(zeroed).digest('hex');
  if (actual !== expected) throw bad(`its own ${type} is ${actual}, the file says ${expected} (edited or damaged)`, { expected, actual });
}

/** Byte range [start, end) of a bmap range within the image (the last block may be short). */
export function rangeBytes(bmap: Bmap, range: BmapRange): { readonly start: number; readonly end: number } {
  return { start: range.first * bmap.blockSize, end: Math.min((range.last + 1) * bmap.blockSize, bmap.imageSize) };
}

/** Bytes the mapped ranges cover. */
export function mappedBytes(bmap: Bmap): number {
  return bmap.ranges.reduce((sum, range) => {
    const { start, end } = rangeBytes(bmap, range);
    return sum + (end - start);
  }, 0);
}
