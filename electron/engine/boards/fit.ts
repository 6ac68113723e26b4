/**
 * U-Boot FIT images: a flattened device tree (FDT) whose /images/<name> nodes carry the payloads
 * and /configurations/<name> nodes name what to load, among it the device tree (`fdt`).
 *
 * FDT layout (big-endian): header magic 0xD00DFEED, totalsize, off_dt_struct, off_dt_strings,
 * off_mem_rsvmap, version, last_comp_version, boot_cpuid_phys, size_dt_strings, size_dt_struct.
 * The structure block is a token stream: BEGIN_NODE (1) + NUL-terminated name padded to 4,
 * END_NODE (2), PROP (3) + value length + name offset into the strings block + value padded to 4,
 * NOP (4), END (9).
 *
 * An image's payload is either inside the tree (`data`) or follows it (external data, mkimage -E,
 * binman): `data-offset` counts from the end of the tree rounded up to 4 bytes, `data-position`
 * from the start of the FIT; `data-size` is its length. A `hash-*` subnode holds `algo` (crc32,
 * sha1, sha256, …) and `value` computed over the payload.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;
const MAX_DEPTH = 32;

export interface FdtNode {
  readonly name: string;
  readonly props: ReadonlyMap<string, Uint8Array>;
  readonly children: readonly FdtNode[];
}

/** A structure the blob does not follow, with the byte offset (within the blob) where it breaks. */
export class FdtError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

const u32 = (bytes: Uint8Array, at: number): number =>
  (((bytes[at] ?? 0) << 24) | ((bytes[at + 1] ?? 0) << 16) | ((bytes[at + 2] ?? 0) << 8) | (bytes[at + 3] ?? 0)) >>> 0;

function cString(bytes: Uint8Array, at: number, end: number): { text: string; next: number } {
  let stop = at;
  while (stop < end && bytes[stop] !== 0) stop++;
  if (stop >= end) throw new FdtError('unterminated name', at);
  return { text: new TextDecoder().decode(bytes.subarray(at, stop)), next: stop + 1 };
}

/** Parses a device tree blob's structure block; `blob` must hold at least `totalsize` bytes. */
export function parseFdt(blob: Uint8Array): FdtNode {
  if (blob.length < 40 || u32(blob, 0) !== FDT_MAGIC) throw new FdtError('no device tree header', 0);
  const total = u32(blob, 4);
  const structAt = u32(blob, 8);
  const stringsAt = u32(blob, 12);
  const version = u32(blob, 20);
  if (total > blob.length) throw new FdtError(`totalsize ${total} is past the ${blob.length} bytes read`, 4);
  if (version < 16) throw new FdtError(`version ${version} is older than 16`, 20);
  const stringsEnd = version >= 3 ? stringsAt + u32(blob, 32) : total;
  const structEnd = version >= 17 ? structAt + u32(blob, 36) : total;
  if (structEnd > total || stringsEnd > total || structAt < 40) throw new FdtError('structure or strings block outside the blob', 8);

  type Open = { name: string; props: Map<string, Uint8Array>; children: FdtNode[] };
  const stack: Open[] = [];
  let root: FdtNode | null = null;
  let at = structAt;
  while (at + 4 <= structEnd) {
    const token = u32(blob, at);
    const tokenAt = at;
    at += 4;
    if (token === FDT_NOP) continue;
    if (token === FDT_END) break;
    if (token === FDT_BEGIN_NODE) {
      if (root !== null) throw new FdtError('a second root node', tokenAt);
      if (stack.length >= MAX_DEPTH) throw new FdtError(`nodes nested deeper than ${MAX_DEPTH}`, tokenAt);
      const { text, next } = cString(blob, at, structEnd);
      at = (next + 3) & ~3;
      stack.push({ name: text, props: new Map(), children: [] });
    } else if (token === FDT_END_NODE) {
      const done = stack.pop();
      if (!done) throw new FdtError('END_NODE without a node', tokenAt);
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(done);
      else root = done;
    } else if (token === FDT_PROP) {
      const node = stack[stack.length - 1];
      if (!node) throw new FdtError('property outside any node', tokenAt);
      const length = u32(blob, at);
      const nameAt = stringsAt + u32(blob, at + 4);
      at += 8;
      if (at + length > structEnd) throw new FdtError(`property value of ${length} bytes runs past the structure block`, tokenAt);
      if (nameAt >= stringsEnd) throw new FdtError('property name outside the strings block', tokenAt + 8);
      node.props.set(cString(blob, nameAt, stringsEnd).text, blob.subarray(at, at + length));
      at = (at + length + 3) & ~3;
    } else {
      throw new FdtError(`unknown token 0x${token.toString(16)}`, tokenAt);
    }
  }
  if (stack.length > 0 || root === null) throw new FdtError('structure block ends inside a node', at);
  return root;
}

const child = (node: FdtNode | undefined, name: string): FdtNode | undefined => node?.children.find((c) => c.name === name);
const text = (value: Uint8Array | undefined): string | undefined => (value ? new TextDecoder().decode(value).replace(/\0+$/, '') : undefined);
const cell = (value: Uint8Array | undefined): number | undefined => (value && value.length === 4 ? u32(value, 0) : undefined);

/** Where one image's payload lies, in bytes from the start of the FIT. */
interface Payload {
  readonly image: string;
  readonly start: number;
  readonly length: number;
  readonly node: FdtNode;
}

function payloads(root: FdtNode, blobStart: number, totalsize: number): Payload[] {
  const external = (totalsize + 3) & ~3;
  return (child(root, 'images')?.children ?? []).flatMap((node): Payload[] => {
    const data = node.props.get('data');
    if (data) return [{ image: node.name, start: data.byteOffset - blobStart, length: data.length, node }];
    const size = cell(node.props.get('data-size'));
    const position = cell(node.props.get('data-position'));
    const offset = cell(node.props.get('data-offset'));
    if (size === undefined || (position === undefined && offset === undefined)) return [];
    return [{ image: node.name, start: position ?? external + (offset as number), length: size, node }];
  });
}

/** Bytes a FIT occupies: its tree plus every external payload. Throws FdtError on a broken tree. */
export function fitExtent(blob: Uint8Array): number {
  const root = parseFdt(blob);
  const total = u32(blob, 4);
  return payloads(root, blob.byteOffset, total).reduce((end, p) => Math.max(end, p.start + p.length), total);
}

function digest(algo: string, data: Uint8Array): Uint8Array | null {
  if (algo === 'crc32') {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, crc32(data));
    return out;
  }
  if (['md5', 'sha1', 'sha256', 'sha384', 'sha512'].includes(algo)) return createHash(algo).update(data).digest();
  return null;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

export interface FitCheck {
  readonly valid: boolean;
  /** Bytes from the FIT's start to the end of its last payload. */
  readonly extent: number;
  readonly images: number;
  /** e.g. "3 crc32 hashes verified", or the first failure. */
  readonly summary: string;
  /** Device trees the FIT names: its configurations' descriptions and fdt images' descriptions, without ".dtb". */
  readonly deviceTrees: readonly string[];
}

/** Checks a FIT: its tree, that each payload lies within `blob`, and every hash it carries. */
export function checkFit(blob: Uint8Array): FitCheck {
  let root: FdtNode;
  try {
    root = parseFdt(blob);
  } catch (error) {
    if (!(error instanceof FdtError)) throw error;
    return { valid: false, extent: 0, images: 0, summary: `device tree structure broken at +${error.at}: ${error.message}`, deviceTrees: [] };
  }
  const total = u32(blob, 4);
  const all = payloads(root, blob.byteOffset, total);
  const extent = all.reduce((end, p) => Math.max(end, p.start + p.length), total);
  const failures: string[] = [];
  const checked = new Map<string, number>();
  for (const payload of all) {
    if (payload.start < 0 || payload.start + payload.length > blob.length) {
      failures.push(`image ${payload.image} data (+${payload.start}, ${payload.length} bytes) lies past the ${blob.length} bytes available`);
      continue;
    }
    const data = blob.subarray(payload.start, payload.start + payload.length);
    for (const hash of payload.node.children.filter((c) => c.name === 'hash' || c.name.startsWith('hash-') || c.name.startsWith('hash@'))) {
      const algo = text(hash.props.get('algo')) ?? '';
      const stored = hash.props.get('value');
      const computed = digest(algo, data);
      if (!stored || computed === null) continue;
      if (hex(stored) !== hex(computed)) {
        failures.push(`image ${payload.image} ${hash.name} ${algo} MISMATCH over +${payload.start}..+${payload.start + payload.length - 1} (stored ${hex(stored)}, computed ${hex(computed)})`);
      } else {
        checked.set(algo, (checked.get(algo) ?? 0) + 1);
      }
    }
  }
  const names = new Set<string>();
  const images = child(root, 'images');
  for (const config of child(root, 'configurations')?.children ?? []) {
    const fdts = (text(config.props.get('fdt')) ?? '').split('\0').filter(Boolean);
    // The fdt image's description is the tree's name; a configuration's own description only stands in for it.
    const described = fdts.map((fdt) => text(child(images, fdt)?.props.get('description'))).filter((name): name is string => !!name);
    const description = text(config.props.get('description'));
    for (const name of described.length > 0 ? described : fdts.length > 0 && description ? [description] : []) names.add(name);
  }
  if (all.length === 0) failures.push('no image with data under /images: a device tree, not a FIT');
  const hashes = [...checked].map(([algo, count]) => `${count} ${algo}`).join(', ');
  const summary = failures[0] ?? (hashes ? `hashes verified: ${hashes}` : 'no hashes, payload not checked');
  const deviceTrees = [...names].map((name) => name.replace(/\.dtb$/, '')).filter((name) => /^[\w.,+-]+$/.test(name));
  return { valid: failures.length === 0, extent, images: all.length, summary, deviceTrees };
}
