/**
 * Images inside a .zip archive: which entry is the image, its size from the central directory,
 * an optional block map beside it, and a stream of the entry's bytes.
 *
 * Vendors ship a zip with one image and perhaps a README, checksums or an image.bmap. Candidate
 * images are the file entries of at least MIN_IMAGE_BYTES that are not block maps; several
 * candidates need the person to choose one (`entry`), and the error lists them.
 *
 * yauzl inflates but does not check an entry's CRC-32: the entry streams here are checked against
 * the central directory's value at their end, and any failure while inflating (damaged deflate
 * data, a bad local header) is reported as a damaged entry.
 */
import { Transform, type Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { CardsmithError } from '../errors';
import { message } from '../messages';

const MIN_IMAGE_BYTES = 64 * 1024;

export interface ZipImage {
  readonly entryName: string;
  readonly uncompressedSize: number;
  readonly bmapXml: string | null;
  /** The entry's bytes (inflated by yauzl), ending in an error unless their CRC-32 matches; the archive closes when the stream ends. */
  open(): Promise<Readable>;
  close(): void;
}

async function listEntries(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (entry: Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', reject);
    zip.readEntry();
  });
}

const hex = (crc: number): string => crc.toString(16).padStart(8, '0');

function damagedEntry(path: string, entry: Entry, inflated: number, error: unknown): CardsmithError {
  if (error instanceof CardsmithError) return error;
  return CardsmithError.keyed('source-corrupt', 'zip.entryDamaged', { entry: entry.fileName, path, inflated, reason: (error as Error).message }, {
    format: 'zip',
    path,
    entry: entry.fileName,
    inflatedBytes: inflated,
  });
}

/** The entry's inflated bytes, failing at their end when their CRC-32 is not the directory's. */
async function openCheckedEntry(zip: ZipFile, entry: Entry, path: string): Promise<Readable> {
  const stream = await zip.openReadStreamPromise(entry).catch((error: unknown) => {
    throw damagedEntry(path, entry, 0, error);
  });
  let crc = 0;
  let bytes = 0;
  const check = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _encoding, callback) {
      crc = crc32(chunk, crc);
      bytes += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      if (crc === entry.crc32) {
        callback();
        return;
      }
      const [expected, actual] = [hex(entry.crc32), hex(crc)];
      callback(
        CardsmithError.keyed('source-corrupt', 'zip.crc', { entry: entry.fileName, path, actual, expected }, {
          format: 'zip',
          path,
          entry: entry.fileName,
          expected,
          actual,
        }),
      );
    },
  });
  stream.on('error', (error) => check.destroy(damagedEntry(path, entry, bytes, error)));
  check.once('close', () => stream.destroy());
  return stream.pipe(check);
}

async function readSmallEntry(zip: ZipFile, entry: Entry, path: string): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of await openCheckedEntry(zip, entry, path)) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function corruptZip(path: string, error: unknown): CardsmithError {
  return CardsmithError.keyed('source-corrupt', 'zip.damaged', { path, reason: (error as Error).message }, { format: 'zip', path });
}

/** Opens the archive and picks its image entry (`entry` chooses when there are several). */
export async function openZipImage(path: string, entry?: string): Promise<ZipImage> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false }).catch((error: unknown) => {
    throw corruptZip(path, error);
  });
  try {
    const entries = await listEntries(zip).catch((error: unknown) => {
      throw corruptZip(path, error);
    });
    const files = entries.filter((candidate) => !candidate.fileName.endsWith('/'));
    const bmaps = files.filter((candidate) => /\.bmap$/i.test(candidate.fileName));
    const images = files.filter((candidate) => !/\.bmap$/i.test(candidate.fileName) && candidate.uncompressedSize >= MIN_IMAGE_BYTES);
    const names = images.map((candidate) => candidate.fileName);
    let chosen: Entry | undefined;
    if (entry !== undefined) {
      chosen = images.find((candidate) => candidate.fileName === entry);
      if (!chosen) throw CardsmithError.keyed('bad-input', 'zip.noSuchImage', { entry }, { path, images: names });
    } else if (images.length === 1) {
      chosen = images[0];
    } else if (images.length === 0) {
      throw CardsmithError.keyed('bad-input', 'zip.noImage', { path }, { path, entries: files.map((f) => f.fileName) });
    } else {
      throw CardsmithError.keyed('bad-input', 'zip.severalImages', { count: images.length, names: names.join(', ') }, { path, images: names }, { hint: message('zip.severalImagesHint') });
    }
    const image = chosen!;
    const stem = image.fileName.replace(/\.[^./]*$/, '');
    const bmapEntry = bmaps.find((candidate) => candidate.fileName.replace(/\.bmap$/i, '') === stem) ?? (bmaps.length === 1 ? bmaps[0] : undefined);
    const bmapXml = bmapEntry ? await readSmallEntry(zip, bmapEntry, path) : null;
    return {
      entryName: image.fileName,
      uncompressedSize: image.uncompressedSize,
      bmapXml,
      async open() {
        const stream = await openCheckedEntry(zip, image, path).catch((error: unknown) => {
          zip.close();
          throw error;
        });
        stream.once('close', () => zip.close());
        return stream;
      },
      close: () => zip.close(),
    };
  } catch (error) {
    zip.close();
    throw error;
  }
}

