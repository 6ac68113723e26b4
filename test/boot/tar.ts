/**
 * The POSIX ustar format, used for the boot tests' root filesystem tarball: per entry a 512-byte
 * header (octal ASCII numbers, a checksum over the header with its own field read as spaces,
 * magic "ustar\0" version "00"), then the data padded to 512 bytes; two zero blocks end the
 * archive. Paths longer than 100 bytes are split at a "/" into the 155-byte prefix field.
 */
import { TREE_MTIME, type TreeEntry } from './tree';

const BLOCK = 512;

type TypeFlag = '0' | '2' | '3' | '5';

function putString(header: Buffer, offset: number, length: number, text: string, what: string): void {
  const bytes = Buffer.from(text);
  if (bytes.length > length) throw new Error(`tar: ${what} "${text}" is longer than ${length} bytes`);
  bytes.copy(header, offset);
}

/** An octal field: digits, zero-padded, ending in NUL, as ustar readers expect. */
function putOctal(header: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8).padStart(length - 1, '0');
  if (digits.length > length - 1) throw new Error(`tar: value ${value} does not fit a ${length}-byte field`);
  header.write(`${digits}\0`, offset, 'ascii');
}

function splitName(path: string): { readonly name: string; readonly prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let cut = path.indexOf('/'); cut !== -1; cut = path.indexOf('/', cut + 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  throw new Error(`tar: path "${path}" cannot be stored in ustar name + prefix`);
}

function header(path: string, type: TypeFlag, mode: number, size: number, link: string, major: number, minor: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  const { name, prefix } = splitName(type === '5' ? `${path}/` : path);
  putString(block, 0, 100, name, 'name');
  putOctal(block, 100, 8, mode);
  putOctal(block, 108, 8, 0);
  putOctal(block, 116, 8, 0);
  putOctal(block, 124, 12, size);
  putOctal(block, 136, 12, TREE_MTIME);
  block.write(type, 156, 'ascii');
  putString(block, 157, 100, link, 'link target');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  putString(block, 265, 32, 'root', 'user name');
  putString(block, 297, 32, 'root', 'group name');
  putOctal(block, 329, 8, major);
  putOctal(block, 337, 8, minor);
  putString(block, 345, 155, prefix, 'prefix');
  block.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

function member(entry: TreeEntry): readonly Buffer[] {
  switch (entry.kind) {
    case 'dir':
      return [header(entry.path, '5', entry.mode, 0, '', 0, 0)];
    case 'symlink':
      return [header(entry.path, '2', 0o777, 0, entry.target, 0, 0)];
    case 'char-device':
      return [header(entry.path, '3', entry.mode, 0, '', entry.major, entry.minor)];
    case 'file':
      return [
        header(entry.path, '0', entry.mode, entry.data.length, '', 0, 0),
        entry.data,
        Buffer.alloc((BLOCK - (entry.data.length % BLOCK)) % BLOCK),
      ];
  }
}

/** The ustar archive of `entries`, in the given order, ending with two zero blocks. */
export function ustarArchive(entries: readonly TreeEntry[]): Buffer {
  return Buffer.concat([...entries.flatMap(member), Buffer.alloc(2 * BLOCK)]);
}
