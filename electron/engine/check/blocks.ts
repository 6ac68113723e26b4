/**
 * Signed probe blocks. Every block the probe writes says which run wrote it (a random nonce) and
 * for which byte offset, and is filled with a pattern derived from both, so whatever a read
 * returns can be told apart: this block (good), another block of this run (the card mapped two
 * addresses onto one cell: wrap-around), this block with a few bytes changed (corrupt data), or
 * something never written here (the write was lost).
 */
export const PROBE_BLOCK = 4096;
const MAGIC = 'CSMPROBE';

export interface Nonce {
  readonly hi: number;
  readonly lo: number;
}

export function fillBlock(into: Uint8Array, nonce: Nonce, offset: number): void {
  const view = new DataView(into.buffer, into.byteOffset, into.byteLength);
  for (let i = 0; i < MAGIC.length; i++) into[i] = MAGIC.charCodeAt(i);
  view.setUint32(8, nonce.hi);
  view.setUint32(12, nonce.lo);
  view.setUint32(16, Math.floor(offset / 2 ** 32));
  view.setUint32(20, offset >>> 0);
  view.setUint32(24, 0);
  view.setUint32(28, 0);
  // xorshift32 seeded by run and offset: no two blocks of a run share their body.
  let x = (nonce.lo ^ Math.imul(offset / PROBE_BLOCK, 0x9e3779b1) ^ Math.floor(offset / 2 ** 32)) >>> 0 || 0x2545f491;
  for (let i = 32; i + 4 <= into.byteLength; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view.setUint32(i, x >>> 0);
  }
}

export type Reading =
  | { readonly kind: 'good' }
  /** A block of this run written for another offset: the two addresses share a cell. */
  | { readonly kind: 'alias'; readonly from: number }
  /** Mostly this block (or another of this run) but with bytes changed. */
  | { readonly kind: 'corrupt'; readonly differing: number }
  /** Nothing like this block: the write never reached the card. */
  | { readonly kind: 'lost' };

function differingBytes(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

/** What the block read at `offset` is; `scratch` is a buffer of the block's size. */
export function classifyBlock(block: Uint8Array, offset: number, nonce: Nonce, scratch: Uint8Array): Reading {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  let signed = view.getUint32(8) === nonce.hi && view.getUint32(12) === nonce.lo;
  for (let i = 0; signed && i < MAGIC.length; i++) signed = block[i] === MAGIC.charCodeAt(i);
  if (signed) {
    const from = view.getUint32(16) * 2 ** 32 + view.getUint32(20);
    if (from % PROBE_BLOCK === 0) {
      fillBlock(scratch, nonce, from);
      const differing = differingBytes(block, scratch);
      if (differing === 0) return from === offset ? { kind: 'good' } : { kind: 'alias', from };
      return { kind: 'corrupt', differing };
    }
  }
  fillBlock(scratch, nonce, offset);
  const differing = differingBytes(block, scratch);
  // A signature with flipped bits is still mostly the block; a lost write is almost all different.
  return differing < block.length / 2 ? { kind: 'corrupt', differing } : { kind: 'lost' };
}
