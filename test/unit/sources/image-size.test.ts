import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { gzipSizeFromTrailer, zstdFrameContentSize } from '../../../electron/engine/sources/image-size';
import { parseIndexRecords, readXzLayout } from '../../../electron/engine/sources/xz-index';
import { describeWith } from '../../helpers/needs';

describe('gzip trailer estimate', () => {
  it('adds 4 GiB wraps until the size is not below the compressed size', () => {
    expect(gzipSizeFromTrailer(1000, 500)).toBe(1000);
    // A 5 GiB image compressed to 1.5 GiB: ISIZE holds 1 GiB.
    expect(gzipSizeFromTrailer(2 ** 30, 1.5 * 2 ** 30)).toBe(5 * 2 ** 30);
  });
});

describe('zstd frame content size', () => {
  it('reads 1-, 2-, 4- and 8-byte fields and reports absent ones as null', () => {
    const magic = [0x28, 0xb5, 0x2f, 0xfd];
    expect(zstdFrameContentSize(Uint8Array.from([...magic, 0x20, 200]))).toBe(200); // single segment, 1 byte
    expect(zstdFrameContentSize(Uint8Array.from([...magic, 0x40, 0x00, 0x10, 0x00]))).toBe(16 + 256); // 2 bytes + 256 offset
    expect(zstdFrameContentSize(Uint8Array.from([...magic, 0x80, 0x00, 0x00, 0x00, 0x00, 0x01]))).toBe(2 ** 24); // window byte then 4 bytes
    expect(zstdFrameContentSize(Uint8Array.from([...magic, 0xe0, 0, 0, 0, 0, 1, 0, 0, 0]))).toBe(2 ** 32);
    expect(zstdFrameContentSize(Uint8Array.from([...magic, 0x00, 0x00]))).toBeNull();
  });
});

describe('xz index', () => {
  it('parses multibyte integers in index records', () => {
    // indicator 0, 2 records: (unpadded 300, uncompressed 1<<20), (unpadded 5, uncompressed 7)
    const index = Uint8Array.from([0x00, 0x02, 0xac, 0x02, 0x80, 0x80, 0x40, 0x05, 0x07]);
    expect(parseIndexRecords(index)).toEqual([
      { unpaddedSize: 300, uncompressedSize: 1 << 20 },
      { unpaddedSize: 5, uncompressedSize: 7 },
    ]);
    expect(parseIndexRecords(Uint8Array.from([0x01]))).toBeNull();
  });
});

describeWith(['tool:xz'], 'xz index of real xz output', () => {
  it('finds every block of a multi-block, multi-stream file with padding', async () => {
    const a = randomBytes(700_000);
    const b = Buffer.alloc(300_000, 7);
    const xz = (data: Buffer): Buffer => execFileSync('xz', ['-c', '-T1', '--block-size=262144'], { input: data });
    const file = Buffer.concat([xz(a), Buffer.alloc(8), xz(b)]);
    const layout = await readXzLayout(file.length, async (position, length) => file.subarray(position, position + length));
    expect(layout?.uncompressedSize).toBe(a.length + b.length);
    expect(layout?.blocks.map((block) => block.uncompressedSize)).toEqual([262144, 262144, 175712, 262144, 37856]);
    for (const block of layout!.blocks) expect(file[block.offset]).not.toBe(0); // a block header starts with its size byte
    expect(await readXzLayout(10, async () => new Uint8Array(4))).toBeNull();
  });
});
