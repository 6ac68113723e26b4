/**
 * GUIDs as GPT stores them: the text form `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX` maps to 16 bytes
 * in "mixed endian" order — the first three groups little-endian, the last two as written. Images
 * are reproducible, so unique GUIDs come from a seed (sha256 of seed and purpose, shaped as a
 * version-4 GUID) instead of a random source.
 */
import { createHash } from 'node:crypto';
import { CardsmithError } from '../errors';

const GUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function guidToBytes(text: string): Uint8Array {
  if (!GUID_TEXT.test(text)) throw CardsmithError.keyed('bad-input', 'guid.bad', { text });
  const hex = text.replace(/-/g, '');
  const plain = Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
  const out = new Uint8Array(16);
  out.set([plain[3]!, plain[2]!, plain[1]!, plain[0]!, plain[5]!, plain[4]!, plain[7]!, plain[6]!]);
  out.set(plain.subarray(8), 8);
  return out;
}

export function guidFromBytes(bytes: Uint8Array): string {
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  const hex = order.map((i) => bytes[i]!.toString(16).padStart(2, '0')).join('').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A stable version-4-shaped GUID for (seed, purpose), e.g. ("build-42", "partition-2"). */
export function guidFromSeed(seed: string, purpose: string): string {
  const digest = createHash('sha256').update(`${seed}\0${purpose}`).digest();
  digest[6] = (digest[6]! & 0x0f) | 0x40;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A stable 32-bit value for (seed, purpose): MBR disk signatures, FAT volume ids. */
export function u32FromSeed(seed: string, purpose: string): number {
  return createHash('sha256').update(`${seed}\0${purpose}`).digest().readUInt32LE(0);
}
