/**
 * A bmap from `bmaptool create` (format 2.0) rewritten into the layouts of the older format versions,
 * as bmaptool's history defines them, with correct checksums: for tests of the version rules.
 */
import { createHash } from 'node:crypto';
import { parseBmap, rangeBytes } from '../../electron/engine/sources/bmap';

export type Version = '2.0' | '1.4' | '1.3' | '1.2';
export const VERSIONS: readonly Version[] = ['2.0', '1.4', '1.3', '1.2'];

export const hashHex = (type: string, data: Buffer | string): string => createHash(type).update(data).digest('hex');

/** Puts the right file checksum into `field`: computed with the field's value as ASCII zeros. */
export function reseal(xml: string, field: string, type: string): string {
  const zeroed = xml.replace(new RegExp(`<${field}> [0-9a-f]+ </${field}>`), () => `<${field}> ${'0'.repeat(hashHex(type, '').length)} </${field}>`);
  return zeroed.replace(new RegExp(`<${field}> 0+ </${field}>`), () => `<${field}> ${hashHex(type, zeroed)} </${field}>`);
}

/** The 2.0 map of `image` rewritten in the layout of `version`, with correct checksums. */
export function asVersion(xml20: string, version: Version, image: Buffer): string {
  if (version === '2.0') return xml20;
  if (version === '1.4') return reseal(xml20.replace('<bmap version="2.0">', '<bmap version="1.4">'), 'BmapFileChecksum', 'sha256');
  const bmap = parseBmap(xml20);
  let index = 0;
  let xml = xml20
    .replace('<bmap version="2.0">', `<bmap version="${version}">`)
    .replace(/\s*<ChecksumType>[^<]*<\/ChecksumType>/, '')
    .replace(/chksum="[0-9a-f]+"/g, () => {
      const { start, end } = rangeBytes(bmap, bmap.ranges[index++]!);
      return `sha1="${hashHex('sha1', image.subarray(start, end))}"`;
    });
  if (version === '1.2') return xml.replace(/\s*<BmapFileChecksum>[^<]*<\/BmapFileChecksum>/, '');
  xml = xml.replace(/<BmapFileChecksum> [0-9a-f]+ <\/BmapFileChecksum>/, `<BmapFileSHA1> ${'0'.repeat(40)} </BmapFileSHA1>`);
  return reseal(xml, 'BmapFileSHA1', 'sha1');
}

