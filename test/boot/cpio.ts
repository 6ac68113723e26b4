/**
 * The "newc" cpio format, which the Linux kernel unpacks as an initramfs: per entry a 110-byte
 * ASCII header (magic 070701 and thirteen 8-digit hex fields), the NUL-terminated name padded so
 * that header + name is a multiple of 4 bytes, then the data padded to 4 bytes. A symlink's data
 * is its target; a device node carries its numbers in the rdev fields. The archive ends with an
 * entry named TRAILER!!!.
 */
import { gzipSync } from 'node:zlib';
import { TREE_MTIME, type TreeEntry } from './tree';

const MAGIC = '070701';
const HEADER_BYTES = 110;

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function pad4(length: number): number {
  return (4 - (length % 4)) % 4;
}

interface RawEntry {
  readonly name: string;
  readonly mode: number;
  readonly nlink: number;
  readonly data: Buffer;
  readonly rdevMajor: number;
  readonly rdevMinor: number;
}

function raw(entry: TreeEntry): RawEntry {
  switch (entry.kind) {
    case 'dir':
      return { name: entry.path, mode: S_IFDIR | entry.mode, nlink: 2, data: Buffer.alloc(0), rdevMajor: 0, rdevMinor: 0 };
    case 'file':
      return { name: entry.path, mode: S_IFREG | entry.mode, nlink: 1, data: entry.data, rdevMajor: 0, rdevMinor: 0 };
    case 'symlink':
      return { name: entry.path, mode: S_IFLNK | 0o777, nlink: 1, data: Buffer.from(entry.target), rdevMajor: 0, rdevMinor: 0 };
    case 'char-device':
      return { name: entry.path, mode: S_IFCHR | entry.mode, nlink: 1, data: Buffer.alloc(0), rdevMajor: entry.major, rdevMinor: entry.minor };
  }
}

function record(entry: RawEntry, ino: number): Buffer {
  const name = Buffer.from(`${entry.name}\0`);
  const fields = [ino, entry.mode, 0, 0, entry.nlink, TREE_MTIME, entry.data.length, 0, 0, entry.rdevMajor, entry.rdevMinor, name.length, 0];
  const header = Buffer.from(MAGIC + fields.map((value) => value.toString(16).padStart(8, '0')).join(''), 'ascii');
  return Buffer.concat([
    header,
    name,
    Buffer.alloc(pad4(HEADER_BYTES + name.length)),
    entry.data,
    Buffer.alloc(pad4(entry.data.length)),
  ]);
}

/** The uncompressed newc archive of `entries`, in the given order, with its trailer. */
export function newcArchive(entries: readonly TreeEntry[]): Buffer {
  const parts = entries.map((entry, index) => record(raw(entry), index + 1));
  parts.push(record({ name: 'TRAILER!!!', mode: 0, nlink: 1, data: Buffer.alloc(0), rdevMajor: 0, rdevMinor: 0 }, 0));
  return Buffer.concat(parts);
}

/** The gzip'ed archive, the form an initramfs is usually stored in. */
export function gzippedNewcArchive(entries: readonly TreeEntry[]): Buffer {
  return gzipSync(newcArchive(entries), { level: 6 });
}
