/**
 * Block maps (bmaptool's .bmap XML): which blocks of an image hold data, and their checksums.
 *
 * An image is BlocksCount blocks of BlockSize bytes (the last one possibly short: ImageSize need
 * not be a multiple). Only the listed ranges ("mapped" blocks) need writing; the rest are holes the
 * image author declared unimportant. Ranges are inclusive block numbers ("first-last" or "n").
 *
 * Checksums by format version (bmaptool's own history):
 * - 1.0–1.2: a range may carry `sha1="…"`; the file has no checksum of its own.
 * - 1.3: as 1.2, plus the file's sha1 in <BmapFileSHA1>.
 * - 1.4 and 2.x (1.4 is 2.0 released under the wrong number): <ChecksumType> names the hash,
 *   ranges carry `chksum="…"`, the file's own checksum is <BmapFileChecksum>.
 * A file checksum is computed over the file with that field's value replaced by ASCII zeros; it is
 * required where the version has one. bmaptool 3.6 ignores 1.0–1.2 range checksums; they are
 * enforced here, since they are there to be checked.
 *
 * A clear-signed bmap (an OpenPGP "SIGNED MESSAGE" around the XML, as bmaptool accepts) is
 * unwrapped the way gpg prints the signed text — dash-escapes undone, trailing blanks dropped — and
 * checked like any other; the signature itself is not verified, and `signed` says it was there.
 */
import { createHash } from 'node:crypto';
import { CardsmithError } from '../errors';

export const BMAP_CHECKSUM_TYPES = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
export type BmapChecksumType = (typeof BMAP_CHECKSUM_TYPES)[number];

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
  /** The hash of the range checksums (null only for a map that carries none). */
  readonly checksumType: BmapChecksumType | null;
  readonly ranges: readonly BmapRange[];
  /** The file came clear-signed (the signature was not verified). */
  readonly signed: boolean;
}

/** Where each format version keeps its checksums. */
interface ChecksumRules {
  readonly rangeAttribute: 'sha1' | 'chksum';
  /** The element holding the file's own checksum, or null when the version has none. */
  readonly fileElement: 'BmapFileSHA1' | 'BmapFileChecksum' | null;
  /** The hash, or null when <ChecksumType> names it. */
  readonly fixedType: BmapChecksumType | null;
}

function rulesFor(major: number, minor: number): ChecksumRules {
  if (major === 2 || (major === 1 && minor >= 4)) return { rangeAttribute: 'chksum', fileElement: 'BmapFileChecksum', fixedType: null };
  if (minor === 3) return { rangeAttribute: 'sha1', fileElement: 'BmapFileSHA1', fixedType: 'sha1' };
  return { rangeAttribute: 'sha1', fileElement: null, fixedType: 'sha1' };
}

function bad(message: string, details: Record<string, unknown> = {}): CardsmithError {
  return CardsmithError.keyed('bad-input', 'bmap.invalid', { reason: message }, details);
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

const SIGNED_START = '-----BEGIN PGP SIGNED MESSAGE-----';
const SIGNATURE_START = '-----BEGIN PGP SIGNATURE-----';

/** The signed text of a clear-signed message, as `gpg --decrypt` prints it. */
export function clearSignedText(text: string): string {
  const lines = text.split('\n');
  let at = 1;
  while (at < lines.length && lines[at]!.replace(/\r$/, '') !== '') at++;
  const end = lines.findIndex((line, index) => index > at && line.replace(/\r$/, '') === SIGNATURE_START);
  if (at >= lines.length || end < 0) throw bad(`it starts as a clear-signed message but has no ${at >= lines.length ? 'text' : 'signature'} block`);
  return lines
    .slice(at + 1, end)
    .map((line) => {
      const cr = line.endsWith('\r') ? '\r' : '';
      const bare = line.slice(0, line.length - cr.length).replace(/[ \t]+$/, '');
      return `${bare.startsWith('- ') ? bare.slice(2) : bare}${cr}\n`;
    })
    .join('');
}

/** Parses and checks a bmap file: structure, the file's own checksum, the ranges' checksum syntax. */
export function parseBmap(text: string): Bmap {
  const signed = text.startsWith(SIGNED_START);
  const xml = signed ? clearSignedText(text) : text;
  const version = /<bmap\s+version\s*=\s*"(\d+)\.(\d+)"/.exec(xml);
  if (!version) throw bad('no <bmap version="…"> element');
  const major = Number(version[1]);
  const minor = Number(version[2]);
  if (major !== 1 && major !== 2) throw bad(`format version ${version[1]}.${version[2]} is not supported (1.x and 2.x are)`);
  const rules = rulesFor(major, minor);

  const imageSize = integer(xml, 'ImageSize');
  const blockSize = integer(xml, 'BlockSize');
  const blocksCount = integer(xml, 'BlocksCount');
  const mappedBlocksCount = integer(xml, 'MappedBlocksCount');
  if (blockSize === 0) throw bad('<BlockSize> is zero');
  if (Math.ceil(imageSize / blockSize) !== blocksCount) {
    throw bad(`<BlocksCount> ${blocksCount} does not match ImageSize ${imageSize} / BlockSize ${blockSize}`);
  }

  const checksumType = rules.fixedType ?? parseChecksumType(element(xml, 'ChecksumType'));
  const hexLength = createHash(checksumType).digest('hex').length;
  if (rules.fileElement) verifyFileChecksum(xml, rules.fileElement, checksumType, hexLength, `${major}.${minor}`);

  const ranges: BmapRange[] = [];
  const blockMap = /<BlockMap>([\s\S]*?)<\/BlockMap>/.exec(xml);
  if (!blockMap) throw bad('<BlockMap> is missing');
  const rangePattern = /<Range([^>]*)>\s*([^<]*?)\s*<\/Range>/g;
  const checksumPattern = new RegExp(`\\b${rules.rangeAttribute}\\s*=\\s*"([^"]*)"`);
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
    const checksum = checksumPattern.exec(match[1]!)?.[1]?.toLowerCase();
    if (checksum !== undefined && !new RegExp(`^[0-9a-f]{${hexLength}}$`).test(checksum)) {
      throw bad(`range "${text}" has ${rules.rangeAttribute}="${checksum}", not a ${checksumType} (${hexLength} hex digits)`);
    }
    ranges.push(checksum === undefined ? { first, last } : { first, last, checksum });
    mapped += last - first + 1;
    previousLast = last;
  }
  if (mapped !== mappedBlocksCount) throw bad(`the ranges map ${mapped} blocks but <MappedBlocksCount> says ${mappedBlocksCount}`);
  return {
    version: `${major}.${minor}`,
    imageSize,
    blockSize,
    blocksCount,
    mappedBlocksCount,
    checksumType: ranges.some((range) => range.checksum !== undefined) ? checksumType : null,
    ranges,
    signed,
  };
}

function parseChecksumType(text: string | undefined): BmapChecksumType {
  const type = text?.toLowerCase();
  if ((BMAP_CHECKSUM_TYPES as readonly string[]).includes(type ?? '')) return type as BmapChecksumType;
  throw bad(`<ChecksumType> "${text ?? ''}" is missing or not one of ${BMAP_CHECKSUM_TYPES.join(', ')}`);
}

function verifyFileChecksum(xml: string, field: string, type: BmapChecksumType, hexLength: number, version: string): void {
  const pattern = new RegExp(`(<${field}>\\s*)([^<]*?)(\\s*</${field}>)`);
  const match = pattern.exec(xml);
  if (!match) throw bad(`<${field}>, the file's own ${type} that format ${version} carries, is missing`);
  const expected = match[2]!.toLowerCase();
  if (!new RegExp(`^[0-9a-f]{${hexLength}}$`).test(expected)) throw bad(`<${field}> "${match[2]}" is not a ${type} (${hexLength} hex digits)`);
  const at = match.index + match[1]!.length;
  const zeroed = `${xml.slice(0, at)}${'0'.repeat(expected.length)}${xml.slice(at + expected.length)}`;
  const actual = createHash(type).update(zeroed).digest('hex');
  if (actual !== expected) {
    throw CardsmithError.keyed('source-corrupt', 'bmap.ownChecksum', { type, actual, field, expected }, {
      format: 'bmap',
      expected,
      actual,
    });
  }
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
