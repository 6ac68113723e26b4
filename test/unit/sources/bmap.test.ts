import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CardsmithError } from '../../../electron/engine/errors';
import { mappedBytes, parseBmap, rangeBytes } from '../../../electron/engine/sources/bmap';
import { describeWith } from '../../helpers/needs';

const V1 = `<?xml version="1.0" ?>
<bmap version="1.2">
    <ImageSize> 10000 </ImageSize>
    <BlockSize> 4096 </BlockSize>
    <BlocksCount> 3 </BlocksCount>
    <MappedBlocksCount> 2 </MappedBlocksCount>
    <BlockMap>
        <Range sha1="a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"> 0 </Range>
        <Range> 2 </Range>
    </BlockMap>
</bmap>`;

const rejects = (xml: string): string => {
  try {
    parseBmap(xml);
  } catch (error) {
    expect(error).toBeInstanceOf(CardsmithError);
    return (error as CardsmithError).info.message;
  }
  throw new Error('expected parseBmap to fail');
};

describe('parseBmap', () => {
  it('reads a 1.x map with sha1 ranges and a short last block', () => {
    const bmap = parseBmap(V1);
    expect(bmap).toMatchObject({ version: '1.2', imageSize: 10000, blockSize: 4096, blocksCount: 3, mappedBlocksCount: 2, checksumType: 'sha1' });
    expect(bmap.ranges).toEqual([{ first: 0, last: 0, checksum: 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3' }, { first: 2, last: 2 }]);
    expect(rangeBytes(bmap, bmap.ranges[1]!)).toEqual({ start: 8192, end: 10000 });
    expect(mappedBytes(bmap)).toBe(4096 + 1808);
  });

  it('says which part is wrong', () => {
    expect(rejects(V1.replace('1.2', '3.0'))).toMatch(/version 3.0/);
    expect(rejects(V1.replace('<MappedBlocksCount> 2', '<MappedBlocksCount> 5'))).toMatch(/map 2 blocks/);
    expect(rejects(V1.replace('> 2 </Range>', '> 3 </Range>'))).toMatch(/past the last block/);
    expect(rejects(V1.replace('<BlocksCount> 3', '<BlocksCount> 4'))).toMatch(/BlocksCount/);
    expect(rejects(V1.replace('> 2 </Range>', '> 0 </Range>'))).toMatch(/overlaps/);
    expect(rejects(V1.replace(/<BlockSize>.*<\/BlockSize>/, ''))).toMatch(/BlockSize/);
  });
});

describeWith(['tool:bmaptool'], 'parseBmap against bmaptool create (2.0)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-bmap-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const image = join(dir, 'img');
  // Data, a 1 MiB hole, data: bmaptool maps only what the file system says is allocated.
  writeFileSync(image, randomBytes(300_000));
  execFileSync('truncate', ['-s', String(300_000 + (1 << 20)), image]);
  writeFileSync(image, randomBytes(50_000), { flag: 'a' });
  const xml = execFileSync('bmaptool', ['create', image], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();

  it('parses the map and its range checksums match the image bytes', () => {
    const bmap = parseBmap(xml);
    const data = readFileSync(image);
    expect(bmap.version).toMatch(/^2\./);
    expect(bmap.checksumType).toBe('sha256');
    expect(bmap.imageSize).toBe(data.length);
    expect(bmap.ranges.length).toBe(2);
    for (const range of bmap.ranges) {
      const { start, end } = rangeBytes(bmap, range);
      expect(createHash('sha256').update(data.subarray(start, end)).digest('hex')).toBe(range.checksum);
    }
    expect(mappedBytes(bmap)).toBeLessThan(data.length);
  });

  it('rejects a map whose ranges were edited (file checksum)', () => {
    const edited = xml.replace(/chksum="([0-9a-f])/, (_all, digit: string) => `chksum="${digit === '0' ? '1' : '0'}`);
    expect(edited).not.toBe(xml);
    expect(rejects(edited)).toMatch(/edited or damaged/);
  });
});
