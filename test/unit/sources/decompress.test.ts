import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { CardsmithError } from '../../../electron/engine/errors';
import { ToolError } from '../../../electron/engine/tools';
import { createDecompressor, decoderTool, decompressFile, detectFormat, hasZlibZstd, startTool, type DecoderChoice, type StreamCompression } from '../../../electron/engine/sources/decompress';
import { describeWith, type Need } from '../../helpers/needs';

/** A small image with incompressible, zero and text regions, like a real card image. */
function sampleImage(): Buffer {
  const text = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `line ${i}\n`).join(''));
  return Buffer.concat([randomBytes(300_000), Buffer.alloc(500_000), text]);
}

function compressWith(tool: string, args: string[], data: Buffer): Buffer {
  return execFileSync(tool, args, { input: data, maxBuffer: 64 << 20 });
}

async function decode(format: StreamCompression, data: Buffer, chunk = 65_536, choice: DecoderChoice = {}): Promise<Buffer> {
  const parts: Buffer[] = [];
  const chunks = function* () {
    for (let offset = 0; offset < data.length; offset += chunk) yield data.subarray(offset, offset + chunk);
  };
  await pipeline(Readable.from(chunks()), createDecompressor(format, choice), async (source: AsyncIterable<Buffer>) => {
    for await (const part of source) parts.push(part);
  });
  return Buffer.concat(parts);
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

const image = sampleImage();
const encoders: Record<Exclude<StreamCompression, 'none'>, (data: Buffer) => Buffer> = {
  gz: (data) => gzipSync(data),
  xz: (data) => compressWith('xz', ['-c', '-T1', '-3'], data),
  zst: (data) => compressWith('zstd', ['-c', '-q'], data),
  bz2: (data) => compressWith('bzip2', ['-c'], data),
};
const toolFor: Record<keyof typeof encoders, string | null> = { gz: null, xz: 'xz', zst: 'zstd', bz2: 'bzip2' };

describe('detectFormat', () => {
  it('recognises each format by its magic bytes', () => {
    expect(detectFormat(Uint8Array.from([0x1f, 0x8b, 8, 0]))).toBe('gz');
    expect(detectFormat(Uint8Array.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]))).toBe('xz');
    expect(detectFormat(Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0]))).toBe('zst');
    expect(detectFormat(Buffer.from('BZh9'))).toBe('bz2');
    expect(detectFormat(Buffer.from('PK\x03\x04'))).toBe('zip');
    expect(detectFormat(Buffer.from('PK\x05\x06'))).toBe('zip');
  });
  it('calls anything else a raw image, including near misses', () => {
    expect(detectFormat(Buffer.alloc(512))).toBe('none');
    expect(detectFormat(Buffer.from('BZh0'))).toBe('none');
    expect(detectFormat(Uint8Array.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 1]))).toBe('none');
    expect(detectFormat(new Uint8Array(0))).toBe('none');
  });
});

describe('createDecompressor', () => {
  it('passes raw images through unchanged', async () => {
    expect(sha(await decode('none', image))).toBe(sha(image));
  });

  for (const format of Object.keys(encoders) as (keyof typeof encoders)[]) {
    const tool = toolFor[format];
    const needs: Need[] = tool === null ? [] : [`tool:${tool}`];
    describeWith(needs, format, () => {
      let compressed: Buffer = Buffer.alloc(0);
      beforeAll(() => {
        compressed = encoders[format](image);
      });

      it('decodes to the original bytes', async () => {
        expect(detectFormat(compressed)).toBe(format);
        expect(sha(await decode(format, compressed))).toBe(sha(image));
      });

      it('decodes when fed one byte-odd chunk size', async () => {
        expect(sha(await decode(format, compressed, 7_919))).toBe(sha(image));
      });

      it('reports truncated input as source-corrupt with the format and offset', async () => {
        const cut = compressed.subarray(0, Math.floor(compressed.length * 0.6));
        const error = await decode(format, cut).then(() => null, (e: unknown) => e);
        expect(error).toBeInstanceOf(CardsmithError);
        const info = (error as CardsmithError).info;
        expect(info.cause).toBe('source-corrupt');
        expect(info.details).toMatchObject({ format });
        expect(info.details?.offset).toBeGreaterThan(0);
        expect(info.details?.offset).toBeLessThanOrEqual(cut.length);
        expect(info.message).toContain(format);
      });

      it('reports flipped bytes as source-corrupt', async () => {
        const bad = Buffer.from(compressed);
        for (let i = 200; i < 4_000; i += 97) bad[i] = bad[i]! ^ 0x5a;
        const error = await decode(format, bad).then(() => null, (e: unknown) => e);
        expect(error).toBeInstanceOf(CardsmithError);
        expect((error as CardsmithError).info.cause).toBe('source-corrupt');
      });
    });
  }

  describeWith(['tool:xz'], 'xz through the in-process WASM decoder', () => {
    let compressed: Buffer = Buffer.alloc(0);
    beforeAll(() => {
      compressed = encoders.xz(image);
    });
    it('decodes to the original bytes', async () => {
      expect(sha(await decode('xz', compressed, 65_536, { xz: 'wasm' }))).toBe(sha(image));
    });
    it('reports truncation with the offset', async () => {
      const cut = compressed.subarray(0, compressed.length >> 1);
      const error = await decode('xz', cut, 65_536, { xz: 'wasm' }).then(() => null, (e: unknown) => e);
      expect((error as CardsmithError).info).toMatchObject({ cause: 'source-corrupt', details: { format: 'xz', offset: cut.length } });
    });
  });

  // The tests run on the pinned Node, the major Electron embeds (pull-readers.test.ts checks that).
  it('names a decoding tool that is missing as a missing tool', async () => {
    const error = await startTool('cardsmith-no-such-decoder', ['-dc'], 'pipe').exited.then(() => null, (thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ToolError);
    expect(error).toMatchObject({ failure: 'missing', tool: 'cardsmith-no-such-decoder' });
  });

  it('uses node:zlib for zstd, spawning no zstd process', () => {
    expect(hasZlibZstd()).toBe(true);
    expect(decoderTool('zst', {})).toBeNull();
  });
});

async function decodeFile(format: StreamCompression, data: Buffer, choice: DecoderChoice = {}): Promise<{ bytes: Buffer }> {
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-decompress-'));
  try {
    const path = join(dir, 'image');
    writeFileSync(path, data);
    const parts: Buffer[] = [];
    for await (const part of decompressFile(format, path, choice)) parts.push(part as Buffer);
    return { bytes: Buffer.concat(parts) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describeWith(['tool:xz', 'tool:zstd', 'tool:bzip2'], 'decompressFile (tools read the file themselves)', () => {
  const big = Buffer.concat([image, image, image]);
  for (const format of ['none', 'gz', 'xz', 'zst', 'bz2'] as const) {
    it(`${format}: decodes a file to the original bytes`, async () => {
      const { bytes } = await decodeFile(format, format === 'none' ? big : encoders[format](big));
      expect(sha(bytes)).toBe(sha(big));
    });
  }

  for (const format of ['xz', 'zst', 'bz2'] as const) {
    it(`${format}: a truncated file is source-corrupt at an offset within the file`, async () => {
      const compressed = encoders[format](big);
      const cut = compressed.subarray(0, Math.floor(compressed.length * 0.6));
      const error = await decodeFile(format, cut, { xz: 'cli' }).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(CardsmithError);
      const info = (error as CardsmithError).info;
      expect(info).toMatchObject({ cause: 'source-corrupt', details: { format } });
      expect(info.details?.offset).toBeGreaterThan(0);
      expect(info.details?.offset).toBeLessThanOrEqual(cut.length);
    });
  }

  it('stops the tool when the reader gives up early', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cardsmith-decompress-'));
    try {
      const path = join(dir, 'image.zst');
      writeFileSync(path, encoders.zst(big));
      const stream = decompressFile('zst', path);
      for await (const part of stream) {
        expect((part as Buffer).length).toBeGreaterThan(0);
        break;
      }
      expect(stream.destroyed).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
