/**
 * A zip entry is trusted only when its inflated bytes have the CRC-32 its archive records, and
 * damage found while inflating is a damaged source, never "a bug in Cardsmith". Zips come from the
 * real `zip` tool; the damage is patched into them byte by byte; flashes go to loop devices.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CardsmithError } from '../../../electron/engine/errors';
import { openImageInput } from '../../../electron/engine/flash/image-input';
import { createJobContext } from '../../../electron/engine/job';
import { openImage } from '../../../electron/engine/sources/open-image';
import { fillStart, readBytesAt } from '../../helpers/bytes';
import { withLoopDevice } from '../../helpers/loop';
import { describeWith } from '../../helpers/needs';
import { runCollecting } from '../../helpers/run-request';
import { compressibleBytes, MiB } from './run-job';

const ENTRY = 'board-image.img';

/** Offsets in a one-entry archive: its local header (at 0), its data, its central directory record. */
function layout(zip: Buffer): { dataStart: number; central: number } {
  expect(zip.readUInt32LE(0)).toBe(0x04034b50);
  const dataStart = 30 + zip.readUInt16LE(26) + zip.readUInt16LE(28);
  const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  expect(central).toBeGreaterThan(dataStart);
  return { dataStart, central };
}

describeWith(['root', 'tool:losetup', 'tool:zip'], 'zip entries are checked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-zipcheck-'));
  const files = { good: '', crc: '', deflate: '', header: '' };
  let image: Buffer;
  let recordedCrc: string;

  beforeAll(() => {
    process.env.CARDSMITH_LOG_DIR = join(dir, 'logs');
    image = compressibleBytes(6 * MiB + 1000);
    writeFileSync(join(dir, ENTRY), image);
    files.good = join(dir, 'good.zip');
    execFileSync('zip', ['-q', '-j', files.good, join(dir, ENTRY)]);
    const good = readFileSync(files.good);
    const { dataStart, central } = layout(good);
    expect(good.readUInt16LE(8)).toBe(8); // deflated, so the damage below hits deflate data
    recordedCrc = good.readUInt32LE(14).toString(16).padStart(8, '0');

    // The CRC-32 field changed in both headers: the data inflates fine but is not what was recorded.
    const crc = Buffer.from(good);
    crc.writeUInt8(crc.readUInt8(14) ^ 0x01, 14);
    crc.writeUInt8(crc.readUInt8(central + 16) ^ 0x01, central + 16);
    files.crc = join(dir, 'crc.zip');
    writeFileSync(files.crc, crc);

    // Deflate data damaged a few hundred bytes in.
    const deflate = Buffer.from(good);
    deflate.fill(0xff, dataStart + 300, dataStart + 340);
    files.deflate = join(dir, 'deflate.zip');
    writeFileSync(files.deflate, deflate);

    // The local header's extra-field length damaged: its data seems to start 200 bytes later.
    // (The signature is left alone: without it the file is no longer recognised as a zip.)
    const header = Buffer.from(good);
    header.writeUInt16LE(header.readUInt16LE(28) + 200, 28);
    files.header = join(dir, 'header.zip');
    writeFileSync(files.header, header);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function drainError(path: string): Promise<CardsmithError> {
    const opened = await openImage(path);
    try {
      for await (const chunk of opened.stream()) void chunk;
    } catch (error) {
      return error as CardsmithError;
    }
    throw new Error(`${path} read to its end without an error`);
  }

  it('reads the intact archive to its end', async () => {
    const opened = await openImage(files.good);
    const parts: Buffer[] = [];
    for await (const chunk of opened.stream()) parts.push(chunk as Buffer);
    expect(Buffer.concat(parts).equals(image)).toBe(true);
  });

  it('fails a wrong CRC-32 at the entry end, naming the entry and both values', async () => {
    const error = await drainError(files.crc);
    expect(error).toBeInstanceOf(CardsmithError);
    const wrong = (parseInt(recordedCrc, 16) ^ 0x01).toString(16).padStart(8, '0');
    expect(error.info).toMatchObject({ cause: 'source-corrupt', details: { entry: ENTRY, expected: wrong, actual: recordedCrc } });
    expect(error.message).toContain(ENTRY);
    expect(error.message).toContain(wrong);
  });

  it.each([
    ['damaged deflate data', 'deflate'],
    ['a broken local header', 'header'],
  ] as const)('reports %s as a damaged source naming the entry', async (_what, key) => {
    const error = await drainError(files[key]);
    expect(error).toBeInstanceOf(CardsmithError);
    expect(error.info).toMatchObject({ cause: 'source-corrupt', details: { entry: ENTRY } });
    expect(error.message).toContain(ENTRY);
  });

  it.each([
    ['a wrong CRC-32', 'crc'],
    ['damaged deflate data', 'deflate'],
    ['a broken local header', 'header'],
  ] as const)('the image input (flash, verify) of a zip with %s fails as source-corrupt naming the entry', async (_what, key) => {
    const input = await openImageInput(files[key], createJobContext(() => undefined, new AbortController().signal));
    const chunk = new Uint8Array(MiB);
    try {
      const error = await (async () => {
        while ((await input.read(chunk)) > 0);
      })().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CardsmithError);
      expect((error as CardsmithError).info).toMatchObject({ cause: 'source-corrupt', details: { entry: ENTRY } });
    } finally {
      await input.close();
    }
  });

  it.each([
    ['a wrong CRC-32', 'crc'],
    ['damaged deflate data', 'deflate'],
    ['a broken local header', 'header'],
  ] as const)('a flash of a zip with %s stops as source-corrupt with the first MiB zeroed', async (_what, key) => {
    await withLoopDevice({ sizeBytes: 16 * MiB }, async (loop) => {
      fillStart(loop.device, 0x55, 2 * MiB);
      const { result, error, events } = await runCollecting({ op: 'flash', source: files[key], device: loop.device, allowLoop: true });
      expect(result).toBeUndefined();
      expect(events.some((e) => e.type === 'result')).toBe(false);
      expect(error).toMatchObject({ cause: 'source-corrupt', details: { entry: ENTRY, headZeroed: true } });
      expect(error?.message).toContain(ENTRY);
      expect(readBytesAt(loop.device, 0, MiB).every((b) => b === 0)).toBe(true);
    });
  });
});
