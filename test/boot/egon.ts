/**
 * The Allwinner boot ROM's check of an SPL (eGON.BT0 header), done on the host because QEMU's
 * H3 boot ROM model copies 32 KiB from card byte 8192 and jumps there without checking anything.
 * Offsets are from the start of the SPL: bytes 4..11 "eGON.BT0"; bytes 12..15 a checksum; bytes
 * 16..19 the length (little-endian, a multiple of 4, at most 32 KiB for the H3's SRAM A1 load).
 * The checksum is the 32-bit wrapping sum of the first `length` bytes as little-endian words,
 * computed with the checksum field replaced by the stamp value 0x5F0A6C39.
 */

export const EGON_STAMP = 0x5f0a6c39;
export const H3_SPL_OFFSET = 8192;
export const H3_SPL_MAX_BYTES = 32 * 1024;

export type EgonCheck =
  | { readonly ok: true; readonly length: number; readonly checksum: number }
  | { readonly ok: false; readonly reason: string };

/** Checks the SPL whose first byte is `spl[0]` (the card's bytes from 8192 on the H3). */
export function checkEgon(spl: Buffer, maxBytes = H3_SPL_MAX_BYTES): EgonCheck {
  if (spl.length < 32 || spl.toString('latin1', 4, 12) !== 'eGON.BT0') return { ok: false, reason: 'no eGON.BT0 magic at bytes 4..11' };
  const stored = spl.readUInt32LE(12);
  const length = spl.readUInt32LE(16);
  if (length === 0 || length % 4 !== 0 || length > maxBytes) return { ok: false, reason: `length ${length} is not a multiple of 4 in 4..${maxBytes}` };
  if (length > spl.length) return { ok: false, reason: `length ${length} runs past the ${spl.length} bytes available` };
  let sum = 0;
  for (let offset = 0; offset < length; offset += 4) {
    sum = (sum + (offset === 12 ? EGON_STAMP : spl.readUInt32LE(offset))) >>> 0;
  }
  if (sum !== stored) return { ok: false, reason: `checksum 0x${stored.toString(16)} stored, 0x${sum.toString(16)} computed` };
  return { ok: true, length, checksum: sum };
}
