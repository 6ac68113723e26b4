/**
 * Streaming tar reader.
 *
 *   readTar(input: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry>
 *
 * A tar archive is a run of 512-byte headers, each followed by its body padded to 512 bytes, and
 * ends with (at least) one zero block. Formats understood: ustar (name split into prefix + name),
 * GNU (base-256 numbers, 'L'/'K' long name/link records, old 'S' sparse headers) and pax ('x' per
 * entry, 'g' global records: path, linkpath, size, uid, gid, uname, gname, mtime with fractions,
 * SCHILY.xattr.* / LIBARCHIVE.xattr.*, GNU sparse 0.0, 0.1 and 1.0).
 *
 * Every entry yields once; its `body` (regular files only) is an async iterable of `FileChunk`s at
 * file offsets, so a sparse file's holes are simply never yielded. The body must be consumed
 * before asking for the next entry, or it is skipped then; afterwards it throws. Memory is bounded
 * by one input chunk plus the metadata records.
 *
 * Paths are made safe for building a filesystem image: split on '/', '.' and empty parts dropped,
 * '..' pops a part but never above the root, so '/etc/x', './etc/x' and '../../etc/x' all name
 * 'etc/x'. The root itself is the empty path ''. Hard-link targets are normalised the same way;
 * symlink targets are data and kept verbatim. Nothing here ever touches the host filesystem.
 *
 * Damage (short input, bad header checksum, malformed numbers or pax records, no end-of-archive
 * marker) is a CardsmithError('source-corrupt') with the byte offset in `details.offset`.
 */
import { CardsmithError } from '../errors';
import { ByteReader } from './byte-reader';

export type TarEntryKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

/** A run of real data inside a (possibly sparse) file. */
export interface DataSegment {
  readonly offset: number;
  readonly length: number;
}

export interface FileChunk {
  /** Offset of `data` within the file. */
  readonly offset: number;
  readonly data: Uint8Array;
}

export interface TarEntry {
  readonly kind: TarEntryKind;
  /** Normalised path inside the archive root, no leading or trailing '/'; '' is the root. */
  readonly path: string;
  /** The name as stored, before normalising (to report a '..' that climbed above the root). */
  readonly rawPath: string;
  /** Symlink target (verbatim) or hard-link target (normalised path). */
  readonly linkTarget: string | null;
  /** Permission and special bits (07777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname: string;
  readonly gname: string;
  /** Seconds since the epoch, fractional when the pax header carried nanoseconds. */
  readonly mtime: number;
  /** Apparent size of a regular file (0 for everything else). */
  readonly size: number;
  readonly devMajor: number;
  readonly devMinor: number;
  /** Extended attributes by full name (e.g. 'security.capability', 'user.comment'). */
  readonly xattrs: ReadonlyMap<string, Uint8Array>;
  /** Data segments of a sparse file, sorted; null when the whole file is data. */
  readonly sparseMap: readonly DataSegment[] | null;
  /** Byte offset of this entry's first header (including pax/long-name records). */
  readonly headerOffset: number;
  /** Regular-file content; empty for other kinds. */
  readonly body: AsyncIterable<FileChunk>;
}

const BLOCK = 512;

/** Pax keys that override header fields, accumulated from 'g' (global) and 'x' (next entry). */
interface PaxState {
  readonly fields: Map<string, Uint8Array>;
}

export function corrupt(message: string, offset: number): CardsmithError {
  return CardsmithError.keyed('source-corrupt', 'tar.corrupt', { reason: message, offset }, { offset });
}

/** True when '..' in `raw` climbs above the root (and normaliseTarPath clamps it there). */
export function climbsAboveRoot(raw: string): boolean {
  let depth = 0;
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    depth += part === '..' ? -1 : 1;
    if (depth < 0) return true;
  }
  return false;
}

/** Joins, drops '.', resolves '..' without escaping the root. */
export function normaliseTarPath(raw: string): string {
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

const utf8 = new TextDecoder('utf-8');

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return utf8.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** Octal (NUL/space padded) or GNU base-256 (high bit set) numeric field. */
function parseNumber(field: Uint8Array, offset: number, what: string): number {
  const lead = field[0] ?? 0;
  if ((lead & 0x80) !== 0) {
    if ((lead & 0x40) !== 0) throw corrupt(`negative ${what}`, offset);
    let value = lead & 0x3f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    if (!Number.isSafeInteger(value)) throw corrupt(`${what} too large`, offset);
    return value;
  }
  const text = cString(field).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw corrupt(`malformed ${what} "${text}"`, offset);
  return parseInt(text, 8);
}

function checksumOk(header: Uint8Array, stored: number): boolean {
  let unsigned = 0;
  let signed = 0;
  // An indexed loop: entries() would allocate a pair per byte, 512 per header.
  for (let i = 0; i < header.length; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : header[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Parses "len key=value\n" records; values stay bytes (xattr values are binary). */
function parsePax(data: Uint8Array, into: Map<string, Uint8Array>, offset: number): void {
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break;
    const space = data.indexOf(0x20, pos);
    if (space < 0) throw corrupt('malformed pax record', offset);
    const length = Number(utf8.decode(data.subarray(pos, space)));
    if (!Number.isSafeInteger(length) || length <= space - pos || pos + length > data.length) {
      throw corrupt('malformed pax record length', offset);
    }
    const record = data.subarray(space + 1, pos + length);
    const eq = record.indexOf(0x3d);
    if (eq < 0 || record[record.length - 1] !== 0x0a) throw corrupt('malformed pax record', offset);
    // A copy (a Buffer's slice() would be a view): values outlive the input chunk.
    into.set(utf8.decode(record.subarray(0, eq)), new Uint8Array(record.subarray(eq + 1, record.length - 1)));
    pos += length;
  }
}

function paxString(fields: ReadonlyMap<string, Uint8Array>, key: string): string | undefined {
  const value = fields.get(key);
  return value === undefined ? undefined : utf8.decode(value);
}

function paxNumber(fields: ReadonlyMap<string, Uint8Array>, key: string, offset: number): number | undefined {
  const text = paxString(fields, key);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw corrupt(`malformed pax ${key} "${text}"`, offset);
  return value;
}

/** Shared by every entry without xattrs, so a tree of thousands of entries holds one empty map. */
const NO_XATTRS: ReadonlyMap<string, Uint8Array> = new Map();

function paxXattrs(fields: ReadonlyMap<string, Uint8Array>): ReadonlyMap<string, Uint8Array> {
  if (fields.size === 0) return NO_XATTRS;
  const xattrs = new Map<string, Uint8Array>();
  for (const [key, value] of fields) {
    if (key.startsWith('SCHILY.xattr.')) xattrs.set(key.slice('SCHILY.xattr.'.length), value);
    else if (key.startsWith('LIBARCHIVE.xattr.')) {
      const name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
      xattrs.set(name, Buffer.from(utf8.decode(value), 'base64'));
    }
  }
  return xattrs.size === 0 ? NO_XATTRS : xattrs;
}

/** GNU sparse 0.0 (repeated offset/numbytes) and 0.1 (comma list) maps from pax fields. */
function paxSparseMap(raw: Uint8Array | undefined, offset: number): DataSegment[] {
  const numbers = raw === undefined ? [] : utf8.decode(raw).split(',').map(Number);
  if (numbers.length % 2 !== 0 || numbers.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw corrupt('malformed GNU.sparse.map', offset);
  }
  return pairs(numbers);
}

/** [offset, length, offset, length, …] → segments. */
function pairs(numbers: readonly number[]): DataSegment[] {
  const map: DataSegment[] = [];
  for (let i = 0; i + 1 < numbers.length; i += 2) map.push({ offset: numbers[i] ?? 0, length: numbers[i + 1] ?? 0 });
  return map;
}

function paxSparse00(data: Uint8Array, offset: number): DataSegment[] | null {
  // 0.0 repeats the same key, so a Map loses all but the last pair: scan the records again.
  const text = utf8.decode(data);
  const offsets = [...text.matchAll(/ GNU\.sparse\.offset=(\d+)\n/g)].map((m) => Number(m[1]));
  const sizes = [...text.matchAll(/ GNU\.sparse\.numbytes=(\d+)\n/g)].map((m) => Number(m[1]));
  if (offsets.length === 0) return null;
  if (offsets.length !== sizes.length) throw corrupt('unpaired GNU.sparse.offset/numbytes', offset);
  return offsets.map((o, i) => ({ offset: o, length: sizes[i] ?? 0 }));
}

function kindOf(flag: number, name: string, offset: number): TarEntryKind | null {
  switch (String.fromCharCode(flag)) {
    case '\0':
    case '0':
    case '7':
    case 'S':
      return name.endsWith('/') && flag === 0 ? 'dir' : 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char';
    case '4':
      return 'block';
    case '5':
    case 'D':
      return 'dir';
    case '6':
      return 'fifo';
    case 'V':
      return null;
    default:
      throw corrupt(`unsupported tar entry type '${String.fromCharCode(flag)}'`, offset);
  }
}

/** Body state shared between the generator and the entry's iterable. */
interface BodyState {
  /** Stored bytes of this entry still unread (data + padding). */
  remaining: number;
  active: boolean;
}

/**
 * Input chunks may be buffers their source reuses (see fs/rootfs.ts): a chunk's bytes are only
 * trusted until the next chunk is taken, so what is kept past a read — the header, a pax record
 * holding a sparse 0.0 map — is copied.
 */
export async function* readTar(input: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(input);
  const header = new Uint8Array(BLOCK);
  const global = new Map<string, Uint8Array>();
  const pax: PaxState = { fields: new Map() };
  let paxRaw: Uint8Array | null = null;
  let longName: string | null = null;
  let longLink: string | null = null;
  let entryStart: number | null = null;

  /** Hands a metadata record to `use` before the padding after it is skipped (and the chunk maybe reused). */
  const readRecord = async <T>(size: number, at: number, use: (data: Uint8Array) => T): Promise<T> => {
    if (size > 64 * 1024 * 1024) throw corrupt(`metadata record of ${size} bytes`, at);
    const data = await reader.readExact(size);
    if (data.length < size) throw corrupt('archive truncated inside a metadata record', reader.offset);
    const result = use(data);
    if ((await reader.skip(padding(size))) < padding(size)) throw corrupt('archive truncated', reader.offset);
    return result;
  };

  try {
    for (;;) {
      const at = reader.offset;
      const block = await reader.readExact(BLOCK);
      if (block.length === 0) throw corrupt('archive ends without an end-of-archive marker', at);
      if (block.length < BLOCK) throw corrupt('archive truncated inside a header', reader.offset);
      if (isZeroBlock(block)) return;
      header.set(block);
      entryStart ??= at;

      const stored = parseNumber(header.subarray(148, 156), at, 'checksum');
      if (!checksumOk(header, stored)) throw corrupt('tar header checksum mismatch', at);
      const flag = header[156] ?? 0;
      const size = parseNumber(header.subarray(124, 136), at, 'size');
      const magic = cString(header.subarray(257, 263));
      const isGnu = magic === 'ustar ' && header[263] === 0x20;

      const flagChar = String.fromCharCode(flag);
      if (flagChar === 'x' || flagChar === 'g') {
        await readRecord(size, at, (data) => {
          if (flagChar === 'g') parsePax(data, global, at);
          else {
            parsePax(data, pax.fields, at);
            paxRaw = pax.fields.has('GNU.sparse.offset') ? new Uint8Array(data) : null;
          }
        });
        continue;
      }
      if (flagChar === 'L' || flagChar === 'K') {
        const text = await readRecord(size, at, cString);
        if (flagChar === 'L') longName = text;
        else longLink = text;
        continue;
      }

      const fields: ReadonlyMap<string, Uint8Array> = global.size === 0 ? pax.fields : new Map([...global, ...pax.fields]);
      const headerName = cString(header.subarray(0, 100));
      const prefix = !isGnu && magic.startsWith('ustar') ? cString(header.subarray(345, 500)) : '';
      const rawName = paxString(fields, 'path') ?? longName ?? (prefix ? `${prefix}/${headerName}` : headerName);
      const rawLink = paxString(fields, 'linkpath') ?? longLink ?? cString(header.subarray(157, 257));
      const kind = kindOf(flag, rawName, at);
      let storedSize = paxNumber(fields, 'size', at) ?? size;

      let sparseMap: DataSegment[] | null = null;
      let realSize = storedSize;
      if (flagChar === 'S') {
        sparseMap = await readOldGnuSparse(header, reader, at);
        realSize = parseNumber(header.subarray(483, 495), at, 'sparse real size');
      } else if (fields.has('GNU.sparse.major') || fields.has('GNU.sparse.map') || fields.has('GNU.sparse.size')) {
        realSize = paxNumber(fields, 'GNU.sparse.realsize', at) ?? paxNumber(fields, 'GNU.sparse.size', at) ?? 0;
        if (paxString(fields, 'GNU.sparse.major') === '1') {
          const { map, consumed } = await readSparse10(reader, at);
          sparseMap = map;
          storedSize -= consumed;
        } else {
          sparseMap = fields.has('GNU.sparse.map')
            ? paxSparseMap(fields.get('GNU.sparse.map'), at)
            : (paxSparse00(paxRaw ?? new Uint8Array(0), at) ?? []);
        }
      }
      const name = paxString(fields, 'GNU.sparse.name') ?? rawName;

      const state: BodyState = { remaining: storedSize + padding(storedSize), active: true };
      const isFile = kind === 'file';
      // Built before the pax fields are cleared: `fields` may be the same map.
      const entry: TarEntry | null =
        kind === null
          ? null
          : {
              kind,
              path: normaliseTarPath(name),
              rawPath: name,
              linkTarget: kind === 'symlink' ? rawLink : kind === 'hardlink' ? normaliseTarPath(rawLink) : null,
              mode: parseNumber(header.subarray(100, 108), at, 'mode') & 0o7777,
              uid: paxNumber(fields, 'uid', at) ?? parseNumber(header.subarray(108, 116), at, 'uid'),
              gid: paxNumber(fields, 'gid', at) ?? parseNumber(header.subarray(116, 124), at, 'gid'),
              uname: paxString(fields, 'uname') ?? cString(header.subarray(265, 297)),
              gname: paxString(fields, 'gname') ?? cString(header.subarray(297, 329)),
              mtime: paxNumber(fields, 'mtime', at) ?? parseNumber(header.subarray(136, 148), at, 'mtime'),
              size: isFile ? realSize : 0,
              devMajor: kind === 'char' || kind === 'block' ? parseNumber(header.subarray(329, 337), at, 'devmajor') : 0,
              devMinor: kind === 'char' || kind === 'block' ? parseNumber(header.subarray(337, 345), at, 'devminor') : 0,
              xattrs: paxXattrs(fields),
              sparseMap,
              headerOffset: entryStart,
              body: isFile ? fileBody(reader, state, storedSize, sparseMap) : emptyBody(),
            };
      pax.fields.clear();
      paxRaw = null;
      longName = null;
      longLink = null;
      entryStart = null;
      if (entry) yield entry;
      state.active = false;
      await skipBody(reader, state);
    }
  } finally {
    await reader.close();
  }
}

async function skipBody(reader: ByteReader, state: BodyState): Promise<void> {
  const want = state.remaining;
  const skipped = await reader.skip(want);
  state.remaining = 0;
  if (skipped < want) throw corrupt('archive truncated inside an entry body', reader.offset);
}

async function* emptyBody(): AsyncGenerator<FileChunk> {
  // Nothing but the end of the stream.
}

async function* fileBody(
  reader: ByteReader,
  state: BodyState,
  storedSize: number,
  sparseMap: readonly DataSegment[] | null,
): AsyncGenerator<FileChunk> {
  if (!state.active) throw new CardsmithError('internal', 'tar entry body read after the next entry was requested');
  const segments = sparseMap ?? [{ offset: 0, length: storedSize }];
  let storedLeft = storedSize;
  for (const segment of segments) {
    let done = 0;
    while (done < segment.length) {
      if (!state.active) throw new CardsmithError('internal', 'tar entry body read after the next entry was requested');
      if (storedLeft === 0) throw corrupt('sparse map describes more data than stored', reader.offset);
      const data = await reader.readSome(Math.min(segment.length - done, storedLeft));
      if (data === null) throw corrupt('archive truncated inside an entry body', reader.offset);
      state.remaining -= data.length;
      storedLeft -= data.length;
      yield { offset: segment.offset + done, data };
      done += data.length;
    }
  }
}

/** GNU sparse 1.0: the map is decimal lines at the start of the body, padded to a block. */
async function readSparse10(reader: ByteReader, at: number): Promise<{ map: DataSegment[]; consumed: number }> {
  let text = '';
  let consumed = 0;
  const lines: number[] = [];
  let expected = -1;
  while (expected < 0 || lines.length < 1 + expected * 2) {
    const block = await reader.readExact(BLOCK);
    if (block.length < BLOCK) throw corrupt('archive truncated inside a sparse map', reader.offset);
    consumed += BLOCK;
    text += utf8.decode(block).replace(/\0+$/, '');
    const parts = text.split('\n');
    text = parts.pop() ?? '';
    for (const part of parts) {
      const value = Number(part);
      if (part === '' || !Number.isSafeInteger(value) || value < 0) throw corrupt('malformed sparse map', at);
      lines.push(value);
      if (lines.length === 1) expected = value;
    }
    if (consumed > 64 * 1024 * 1024) throw corrupt('sparse map too large', at);
  }
  return { map: pairs(lines.slice(1)), consumed };
}

/** Old GNU 'S' headers: 4 map entries in the header, 21 per extension block. */
async function readOldGnuSparse(header: Uint8Array, reader: ByteReader, at: number): Promise<DataSegment[]> {
  const map: DataSegment[] = [];
  const take = (block: Uint8Array, start: number, count: number): void => {
    for (let i = 0; i < count; i++) {
      const base = start + i * 24;
      if (block[base] === 0) return;
      map.push({
        offset: parseNumber(block.subarray(base, base + 12), at, 'sparse offset'),
        length: parseNumber(block.subarray(base + 12, base + 24), at, 'sparse length'),
      });
    }
  };
  take(header, 386, 4);
  let extended = header[482] !== 0;
  while (extended) {
    const block = await reader.readExact(BLOCK);
    if (block.length < BLOCK) throw corrupt('archive truncated inside a sparse header', reader.offset);
    take(block, 0, 21);
    extended = block[504] !== 0;
  }
  return map;
}
