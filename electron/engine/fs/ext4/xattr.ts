/**
 * ext4 extended attributes. Names are stored without their namespace prefix, as an index
 * (user. = 1, trusted. = 4, security. = 6, system. = 7, POSIX ACLs 2 and 3). Entries sit either in
 * the inode's spare bytes after i_extra_isize (behind a 4-byte magic) or in one xattr block (a
 * 32-byte header, entries growing down from the top, values growing up from the end). Values are
 * padded to 4 bytes; a zero word ends the entry list. POSIX ACLs arrive from tar in the generic
 * xattr format (version 2, 8-byte entries) and are stored in ext4's compact format (version 1,
 * 4-byte entries for the owner/group/mask/other tags).
 */
import { CardsmithError } from '../../errors';
import { crc32c } from './crc32c';
import { BLOCK_SIZE, INODE_SIZE } from './geometry';

export const XATTR_MAGIC = 0xea020000;
export const EXTRA_ISIZE = 32;
/** Bytes after the inode's extra fields, minus the magic. */
const IN_INODE_SPACE = INODE_SIZE - 128 - EXTRA_ISIZE - 4;
const BLOCK_HEADER = 32;

interface Encoded {
  readonly index: number;
  readonly name: Uint8Array;
  readonly value: Uint8Array;
}

const PREFIXES: readonly (readonly [string, number])[] = [
  ['system.posix_acl_access', 2],
  ['system.posix_acl_default', 3],
  ['user.', 1],
  ['trusted.', 4],
  ['security.', 6],
  ['system.', 7],
];

/** POSIX ACL, generic xattr layout → ext4 on-disk layout. */
function aclToExt4(value: Uint8Array, path: string): Uint8Array {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  if (value.length < 4 || (value.length - 4) % 8 !== 0 || view.getUint32(0, true) !== 2) {
    throw CardsmithError.keyed('bad-input', 'rootfs.badAcl', { path }, { path });
  }
  const out: number[] = [1, 0, 0, 0];
  for (let at = 4; at < value.length; at += 8) {
    const tag = view.getUint16(at, true);
    const perm = view.getUint16(at + 2, true);
    out.push(tag & 0xff, tag >> 8, perm & 0xff, perm >> 8);
    if (tag === 0x02 || tag === 0x08) {
      const id = view.getUint32(at + 4, true);
      out.push(id & 0xff, (id >>> 8) & 0xff, (id >>> 16) & 0xff, id >>> 24);
    }
  }
  return Uint8Array.from(out);
}

function encodeAll(xattrs: ReadonlyMap<string, Uint8Array>, path: string): Encoded[] {
  const encoded: Encoded[] = [];
  for (const [full, value] of xattrs) {
    const match = PREFIXES.find(([prefix]) => full.startsWith(prefix));
    if (!match) throw CardsmithError.keyed('bad-input', 'ext4.xattrNamespace', { name: full, path }, { path, xattr: full });
    const [prefix, index] = match;
    const name = Buffer.from(full.slice(prefix.length), 'utf8');
    if (name.length > 255) throw CardsmithError.keyed('bad-input', 'ext4.xattrLong', { name: full, path }, { path });
    encoded.push({ index, name, value: index === 2 || index === 3 ? aclToExt4(value, path) : value });
  }
  // The kernel keeps entries ordered by index, name length, then name.
  return encoded.sort((a, b) => a.index - b.index || a.name.length - b.name.length || Buffer.compare(a.name, b.name));
}

const pad4 = (n: number): number => (n + 3) & ~3;

function spaceNeeded(entries: readonly Encoded[]): number {
  return entries.reduce((n, e) => n + 16 + pad4(e.name.length) + pad4(e.value.length), 4);
}

export type XattrPlacement = 'none' | 'inode' | 'block';

export function xattrPlacement(xattrs: ReadonlyMap<string, Uint8Array>, path: string): XattrPlacement {
  if (xattrs.size === 0) return 'none';
  const need = spaceNeeded(encodeAll(xattrs, path));
  if (need <= IN_INODE_SPACE) return 'inode';
  if (need <= BLOCK_SIZE - BLOCK_HEADER) return 'block';
  throw CardsmithError.keyed('bad-input', 'rootfs.xattrsTooBig', { path, need, max: BLOCK_SIZE - BLOCK_HEADER }, {
    path,
    bytes: need,
  });
}

function entryHash(entry: Encoded): number {
  let hash = 0;
  for (const c of entry.name) hash = ((hash << 5) ^ (hash >>> 27) ^ c) >>> 0;
  const padded = new Uint8Array(pad4(entry.value.length));
  padded.set(entry.value);
  const view = new DataView(padded.buffer);
  for (let i = 0; i < padded.length; i += 4) hash = ((hash << 16) ^ (hash >>> 16) ^ view.getUint32(i, true)) >>> 0;
  return hash;
}

/**
 * Writes entries into `area` (entries from `entriesAt`, values packed down from the end);
 * value offsets count from `valueBase`.
 */
function writeEntries(area: Uint8Array, entries: readonly Encoded[], entriesAt: number, valueBase: number, hashed: boolean): number[] {
  const view = new DataView(area.buffer, area.byteOffset, area.byteLength);
  let at = entriesAt;
  let valueEnd = area.length;
  const hashes: number[] = [];
  for (const entry of entries) {
    valueEnd -= pad4(entry.value.length);
    area.set(entry.value, valueEnd);
    const hash = hashed ? entryHash(entry) : 0;
    hashes.push(hash);
    area[at] = entry.name.length;
    area[at + 1] = entry.index;
    view.setUint16(at + 2, entry.value.length === 0 ? 0 : valueEnd - valueBase, true);
    view.setUint32(at + 4, 0, true);
    view.setUint32(at + 8, entry.value.length, true);
    view.setUint32(at + 12, hash, true);
    area.set(entry.name, at + 16);
    at += 16 + pad4(entry.name.length);
  }
  return hashes;
}

/** Fills the in-inode xattr area (inode bytes 160..255) of `inode`. */
export function writeInodeXattrs(inode: Uint8Array, xattrs: ReadonlyMap<string, Uint8Array>, path: string): void {
  const start = 128 + EXTRA_ISIZE;
  new DataView(inode.buffer, inode.byteOffset).setUint32(start, XATTR_MAGIC, true);
  const area = inode.subarray(start + 4, INODE_SIZE);
  writeEntries(area, encodeAll(xattrs, path), 0, 0, false);
}

/** An xattr block numbered `block`, checksummed with the filesystem seed. */
export function encodeXattrBlock(xattrs: ReadonlyMap<string, Uint8Array>, path: string, block: number, fsSeed: number): Uint8Array {
  const out = new Uint8Array(BLOCK_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(0, XATTR_MAGIC, true);
  view.setUint32(4, 1, true);
  view.setUint32(8, 1, true);
  const hashes = writeEntries(out, encodeAll(xattrs, path), BLOCK_HEADER, 0, true);
  let blockHash = 0;
  for (const hash of hashes) blockHash = ((blockHash << 16) ^ (blockHash >>> 16) ^ hash) >>> 0;
  view.setUint32(12, blockHash, true);
  const number = new Uint8Array(8);
  new DataView(number.buffer).setBigUint64(0, BigInt(block), true);
  view.setUint32(16, crc32c(crc32c(fsSeed, number), out), true);
  return out;
}
