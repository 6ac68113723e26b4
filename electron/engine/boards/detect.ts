/**
 * Loader signatures: what boot ROMs (and SPLs) look for at fixed card offsets, recognised from
 * their headers. Each checker is pure over the bytes found at one offset; `scanLoaders` reads the
 * offsets boards use and reports every signature found, with whether its own check passed.
 *
 * - Allwinner eGON.BT0 (8 KiB, 128 KiB, 256 KiB): magic at +4, checksum at +12 = sum of all
 *   32-bit little-endian words of the `length` bytes, taken with the checksum field set to the
 *   stamp 0x5F0A6C39. SPL header v2+ carries a device-tree name (offset at +0x20).
 * - Rockchip idbloader (32 KiB): "RKNS" (v2 header) or the 512-byte rksd header0, RC4-scrambled
 *   with Rockchip's fixed key, whose plain form starts with 0x0FF0AA55; the TPL/SPL it points at
 *   carries its SoC tag ("RK32", "RK33").
 * - NXP i.MX IVT (1 KiB; i.MX8M at 32/33 KiB): tag 0xD1, length 0x0020 big-endian, version 0x4x,
 *   and a `self` pointer the other pointers are relative to.
 * - TI TOC (0/128/256/384 KiB): "CHSETTINGS" in the first table-of-contents entry.
 * - Amlogic: BL2 header magic "@AML" (+16 of sector 1), and the TF-A FIP table of contents
 *   (0xAA640001) where the signed image keeps BL3x.
 * - U-Boot FIT (flattened device tree 0xD00DFEED) and legacy uImage (0x27051956, header CRC-32).
 */
import type { LoaderFound } from '../disk/model';
import { crc32 } from '../disk/crc32';

export type LoaderKind = 'allwinner-egon' | 'rockchip-idbloader' | 'imx-ivt' | 'ti-toc' | 'amlogic-bl2' | 'amlogic-fip' | 'uboot-fit' | 'uboot-uimage';

const KiB = 1024;
const MiB = 1024 * KiB;
const EGON_STAMP = 0x5f0a6c39;
const RK_RC4_KEY = [124, 78, 3, 4, 85, 5, 9, 7, 45, 44, 123, 56, 23, 13, 23, 17];
const RK_HEADER0_MAGIC = 0x0ff0aa55;
const FIP_TOC_MAGIC = 0xaa640001;

/** Card offsets where some board's ROM or SPL looks for each kind of image. */
export const SCAN_OFFSETS: Readonly<Record<Exclude<LoaderKind, 'amlogic-fip'>, readonly number[]>> = {
  'allwinner-egon': [8 * KiB, 128 * KiB, 256 * KiB],
  'rockchip-idbloader': [32 * KiB],
  'imx-ivt': [1 * KiB, 32 * KiB, 33 * KiB],
  'ti-toc': [0, 128 * KiB, 256 * KiB, 384 * KiB],
  'amlogic-bl2': [512],
  // sunxi32 U-Boot proper / sunxi64 FIT (40 KiB), sunxi @128 KiB (160 KiB), i.MX6 u-boot.img (69 KiB),
  // Rockchip puma (256 KiB), AM335x u-boot.img (384 KiB), Rockchip u-boot.itb (8 MiB).
  'uboot-fit': [40 * KiB, 69 * KiB, 160 * KiB, 256 * KiB, 384 * KiB, 8 * MiB],
  'uboot-uimage': [40 * KiB, 69 * KiB, 160 * KiB, 256 * KiB, 384 * KiB, 8 * MiB],
};

/** How many bytes to read at an offset to run every check there. */
const PROBE_BYTES = 1024;

function u32le(bytes: Uint8Array, at: number): number {
  return ((bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16) | ((bytes[at + 3] ?? 0) << 24)) >>> 0;
}
function u32be(bytes: Uint8Array, at: number): number {
  return (((bytes[at] ?? 0) << 24) | ((bytes[at + 1] ?? 0) << 16) | ((bytes[at + 2] ?? 0) << 8) | (bytes[at + 3] ?? 0)) >>> 0;
}
function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}
function cString(bytes: Uint8Array, at: number, max: number): string {
  let end = at;
  while (end < Math.min(bytes.length, at + max) && bytes[end] !== 0) end++;
  return ascii(bytes, at, end - at);
}

/** The eGON header's declared length, to know how much to read for the checksum; null if absent. */
export function egonLength(head: Uint8Array): number | null {
  if (ascii(head, 4, 8) !== 'eGON.BT0') return null;
  return u32le(head, 16);
}

/** Recomputes the eGON.BT0 checksum over `image` (at least the declared length). */
export function egonChecksum(image: Uint8Array, length: number): number {
  let sum = 0;
  for (let at = 0; at + 4 <= length; at += 4) sum = (sum + (at === 12 ? EGON_STAMP : u32le(image, at))) >>> 0;
  return sum;
}

/** Checks a complete eGON image (`length` bytes from its start). */
export function checkEgon(image: Uint8Array, offset: number): LoaderFound | null {
  const length = egonLength(image);
  if (length === null) return null;
  const stored = u32le(image, 12);
  const lengthOk = length >= 32 && length % 4 === 0 && length <= image.length;
  const computed = lengthOk ? egonChecksum(image, length) : 0;
  const valid = lengthOk && computed === stored;
  let dt = '';
  if (ascii(image, 0x14, 3) === 'SPL' && (image[0x17] ?? 0) >= 2) {
    const dtOffset = u32le(image, 0x20);
    if (dtOffset > 0 && dtOffset < length) dt = cString(image, dtOffset, 64);
  }
  const check = lengthOk ? `checksum 0x${stored.toString(16)} ${valid ? 'verified' : `MISMATCH (computed 0x${computed.toString(16)})`}` : `bad length ${length}`;
  return { kind: 'allwinner-egon', offset, length, valid, detail: `Allwinner (sunxi) eGON.BT0 SPL, ${check}${dt ? `, device tree ${dt}` : ''}` };
}

function rc4(data: Uint8Array, key: readonly number[]): Uint8Array {
  const s = Array.from({ length: 256 }, (_, i) => i);
  let j = 0;
  for (let i = 0; i < 256; i++) {
    j = (j + (s[i] ?? 0) + (key[i % key.length] ?? 0)) & 255;
    [s[i], s[j]] = [s[j] ?? 0, s[i] ?? 0];
  }
  const out = new Uint8Array(data.length);
  let i = 0;
  j = 0;
  for (let k = 0; k < data.length; k++) {
    i = (i + 1) & 255;
    j = (j + (s[i] ?? 0)) & 255;
    [s[i], s[j]] = [s[j] ?? 0, s[i] ?? 0];
    out[k] = (data[k] ?? 0) ^ (s[((s[i] ?? 0) + (s[j] ?? 0)) & 255] ?? 0);
  }
  return out;
}

/** Checks a Rockchip boot image; `head` must hold at least the header and the first stage's tag. */
export function checkRockchip(head: Uint8Array, offset: number): LoaderFound | null {
  if (ascii(head, 0, 4) === 'RKNS') {
    return { kind: 'rockchip-idbloader', offset, valid: true, detail: 'Rockchip idbloader, RKNS (v2) header' };
  }
  if (head.length < 512) return null;
  const header0 = rc4(head.subarray(0, 512), RK_RC4_KEY);
  if (u32le(header0, 0) !== RK_HEADER0_MAGIC) return null;
  const initOffset = ((header0[12] ?? 0) | ((header0[13] ?? 0) << 8)) * 512;
  const tag = initOffset + 4 <= head.length ? ascii(head, initOffset, 4) : '';
  const valid = /^RK[0-9A-Z]{2}$/.test(tag);
  return {
    kind: 'rockchip-idbloader',
    offset,
    valid,
    detail: `Rockchip idbloader, rksd header0 (RC4), first stage at +${initOffset}${valid ? ` tagged ${tag}` : ' without an RKxx tag'}`,
  };
}

/** Checks an i.MX Image Vector Table (the boot image header read at 1 KiB, or 32/33 KiB on i.MX8M). */
export function checkImxIvt(head: Uint8Array, offset: number): LoaderFound | null {
  if (head[0] !== 0xd1 || head[1] !== 0x00 || head[2] !== 0x20 || ((head[3] ?? 0) & 0xf0) !== 0x40) return null;
  const entry = u32le(head, 4);
  const bootData = u32le(head, 0x10);
  const self = u32le(head, 0x14);
  const valid = self !== 0 && entry !== 0 && bootData >= self && bootData - self < 64 * KiB;
  const soc = offset === KiB ? 'i.MX53/6/7' : 'i.MX8M';
  return {
    kind: 'imx-ivt',
    offset,
    valid,
    detail: `NXP ${soc} IVT v${(head[3] ?? 0).toString(16)}, self 0x${self.toString(16)}, entry 0x${entry.toString(16)}${valid ? '' : ' (pointers inconsistent)'}`,
  };
}

/** Checks a TI table of contents with the CHSETTINGS entry (AM335x/OMAP MLO in raw mode). */
export function checkTiToc(head: Uint8Array, offset: number): LoaderFound | null {
  if (ascii(head, 0x14, 10) !== 'CHSETTINGS') return null;
  const start = u32le(head, 0);
  const size = u32le(head, 4);
  const valid = start === 0x40 && size === 0x0c;
  return { kind: 'ti-toc', offset, valid, detail: `TI MLO with CHSETTINGS table of contents${valid ? '' : ` (unexpected entry ${start}/${size})`}` };
}

/** Amlogic BL2 header at sector 1 of the card. */
export function checkAmlogicBl2(head: Uint8Array, offset: number): LoaderFound | null {
  if (ascii(head, 16, 4) !== '@AML') return null;
  return { kind: 'amlogic-bl2', offset, valid: true, detail: 'Amlogic BL2 (@AML header) from sector 1' };
}

/** TF-A Firmware Image Package table of contents (Amlogic signed images keep BL3x in one). */
export function checkFip(head: Uint8Array, offset: number): LoaderFound | null {
  if (u32le(head, 0) !== FIP_TOC_MAGIC) return null;
  const serial = u32le(head, 4);
  return { kind: 'amlogic-fip', offset, valid: serial !== 0, detail: `Amlogic FIP table of contents (serial 0x${serial.toString(16)})` };
}

/** U-Boot FIT (a device tree blob) or legacy uImage with its header CRC checked. */
export function checkUboot(head: Uint8Array, offset: number): LoaderFound | null {
  const magic = u32be(head, 0);
  if (magic === 0xd00dfeed) {
    const total = u32be(head, 4);
    const version = u32be(head, 20);
    const valid = total >= 64 && total < 64 * MiB && version >= 16 && version <= 17;
    return { kind: 'uboot-fit', offset, length: total, valid, detail: `U-Boot FIT image, ${total} bytes, dtb v${version}` };
  }
  if (magic === 0x27051956 && head.length >= 64) {
    const stored = u32be(head, 4);
    const header = head.slice(0, 64);
    header.fill(0, 4, 8);
    const valid = crc32(header) === stored;
    const size = u32be(head, 12);
    const name = cString(head, 32, 32);
    return { kind: 'uboot-uimage', offset, length: size + 64, valid, detail: `U-Boot legacy uImage "${name}", ${size} bytes, header CRC ${valid ? 'ok' : 'MISMATCH'}` };
  }
  return null;
}

export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

/** Reads each candidate offset of the card and reports every loader signature found there. */
export async function scanLoaders(read: ReadAt, sizeBytes: number): Promise<LoaderFound[]> {
  const found: LoaderFound[] = [];
  const probe = async (offset: number, length: number): Promise<Uint8Array | null> =>
    offset + 32 <= sizeBytes ? read(offset, Math.min(length, sizeBytes - offset)) : null;

  for (const offset of SCAN_OFFSETS['allwinner-egon']) {
    const head = await probe(offset, PROBE_BYTES);
    const length = head ? egonLength(head) : null;
    if (length === null) continue;
    const image = length > 0 && length <= 1 * MiB ? await probe(offset, length) : head;
    const result = image && checkEgon(image, offset);
    if (result) found.push(result);
  }
  for (const offset of SCAN_OFFSETS['rockchip-idbloader']) {
    const head = await probe(offset, 4 * KiB);
    const result = head && checkRockchip(head, offset);
    if (result) found.push(result);
  }
  const simple: readonly [keyof typeof SCAN_OFFSETS, (head: Uint8Array, offset: number) => LoaderFound | null][] = [
    ['imx-ivt', checkImxIvt],
    ['ti-toc', checkTiToc],
    ['amlogic-bl2', checkAmlogicBl2],
  ];
  for (const [kind, check] of simple) {
    for (const offset of SCAN_OFFSETS[kind]) {
      const head = await probe(offset, PROBE_BYTES);
      const result = head && check(head, offset);
      if (result) found.push(result);
    }
  }
  const ubootOffsets = [...new Set([...SCAN_OFFSETS['uboot-fit'], ...SCAN_OFFSETS['uboot-uimage']])].sort((a, b) => a - b);
  for (const offset of ubootOffsets) {
    const head = await probe(offset, 64);
    const result = head && checkUboot(head, offset);
    if (result) found.push(result);
  }
  // The FIP has no fixed offset; look for its table of contents only where an Amlogic BL2 is.
  if (found.some((loader) => loader.kind === 'amlogic-bl2')) {
    const area = await probe(0, 4 * MiB);
    for (let at = 512; area && at + 8 <= area.length; at += 512) {
      const result = checkFip(area.subarray(at, at + 8), at);
      if (result) found.push(result);
    }
  }
  return found.sort((a, b) => a.offset - b.offset);
}
