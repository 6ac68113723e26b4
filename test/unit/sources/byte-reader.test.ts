import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ByteReader } from '../../../electron/engine/sources/byte-reader';

const MiB = 1 << 20;

describe('ByteReader over a Node stream', () => {
  it('hands out slices of the pushed chunks themselves, never joined copies', async () => {
    const stream = new PassThrough();
    const chunks = [Buffer.alloc(1000, 1), Buffer.alloc(3000, 2), Buffer.alloc(500, 3)];
    for (const chunk of chunks) stream.write(chunk);
    stream.end();
    const reader = new ByteReader(stream);
    const parts: Uint8Array[] = [];
    for (let part = await reader.readSome(2048); part !== null; part = await reader.readSome(2048)) parts.push(part);
    expect(parts.map((p) => p.length)).toEqual([1000, 2048, 952, 500]);
    expect(parts.map((p) => chunks.findIndex((c) => c.buffer === p.buffer && p.byteOffset >= c.byteOffset && p.byteOffset < c.byteOffset + c.length))).toEqual([0, 1, 1, 2]);
    expect(reader.offset).toBe(4500);
  });

  it('reads exact lengths and skips across chunks', async () => {
    const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i & 0xff));
    const reader = new ByteReader(Readable.from([data.subarray(0, 3), data.subarray(3, 5000), data.subarray(5000)], { objectMode: false }));
    expect(Buffer.from(await reader.readExact(10))).toEqual(data.subarray(0, 10));
    expect(await reader.skip(6000)).toBe(6000);
    expect(Buffer.from(await reader.readExact(5000))).toEqual(data.subarray(6010));
    expect(await reader.readSome(1)).toBeNull();
  });

  it('pauses the stream while 4 MiB are queued and resumes as they are taken', async () => {
    const stream = new PassThrough({ highWaterMark: MiB });
    const reader = new ByteReader(stream);
    const first = reader.readSome(1);
    for (let i = 0; i < 6; i++) stream.write(Buffer.alloc(MiB));
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.isPaused()).toBe(true);
    await reader.skip(3 * MiB);
    expect(stream.isPaused()).toBe(false);
    stream.end();
    expect(await reader.skip(10 * MiB)).toBe(3 * MiB - 1);
  });

  it('gives the data before a stream error, then throws it', async () => {
    const stream = new PassThrough();
    const reader = new ByteReader(stream);
    stream.write(Buffer.alloc(100, 7));
    await new Promise((resolve) => setImmediate(resolve));
    stream.destroy(new Error('damaged near byte 100'));
    expect((await reader.readExact(100)).length).toBe(100);
    await expect(reader.readSome(1)).rejects.toThrow('damaged near byte 100');
  });

  it('treats a stream destroyed by someone else before its end as an error, not an end', async () => {
    const stream = new PassThrough();
    const reader = new ByteReader(stream);
    stream.write(Buffer.alloc(10));
    await new Promise((resolve) => setImmediate(resolve));
    stream.destroy();
    expect((await reader.readSome(100))?.length).toBe(10);
    await expect(reader.readSome(1)).rejects.toThrow('closed before its end');
  });

  it('close() destroys the stream', async () => {
    const stream = new PassThrough();
    const reader = new ByteReader(stream);
    await reader.close();
    expect(stream.destroyed).toBe(true);
  });
});
