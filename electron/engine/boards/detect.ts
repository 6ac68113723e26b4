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
 *   and a `self` pointer the other pointers are relative to. The SoC shows in where the image
 *   runs and what its DCD (device configuration data: register writes the ROM makes before
 *   loading, e.g. DDR set-up) writes: i.MX53 peripherals sit at 0x53F…/0x63F… (AIPS-1/2), i.MX6's
 *   at 0x020…/0x021…; an SPL without a DCD runs from on-chip RAM, at 0x0090_0000 on i.MX6 and
 *   0xF800_0000 on i.MX53.
 * - TI TOC (0/128/256/384 KiB): "CHSETTINGS" in the first table-of-contents entry.
 * - Amlogic: BL2 header magic "@AML" (+16 of sector 1), and the TF-A FIP table of contents
 *   (0xAA640001) where the signed image keeps BL3x.
 * - U-Boot FIT (flattened device tree 0xD00DFEED; its payloads and hashes are checked in fit.ts)
 *   and legacy uImage (0x27051956): CRC-32 of the 64-byte header (its CRC field zeroed) at +4,
 *   CRC-32 of the `size` data bytes after the header at +24.
 */
import type { LoaderFound } from '../disk/model';
import { crc32 } from 'node:zlib';
import { checkFit, FDT_MAGIC, fitExtent, FdtError } from './fit';

export type LoaderKind = 'allwinner-egon' | 'rockchip-idbloader' | 'imx-ivt' | 'ti-toc' | 'amlogic-bl2' | 'amlogic-fip' | 'uboot-fit' | 'uboot-uimage';

/** A loader found, with what board matching needs beyond the reported fields. */
export interface Detected extends LoaderFound {
  readonly kind: LoaderKind;
  /** Device trees the loader names (sunxi SPL header, FIT configurations). */
  readonly deviceTrees?: readonly string[];
  /** The SoC the header's addresses belong to (i.MX: "i.MX53", "i.MX6"). */
  readonly soc?: string;
  /** i.MX: the IVT points at a DCD (a full U-Boot that sets up DDR itself, not an SPL). */
  readonly dcd?: boolean;
}

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
  // sunxi32 U-Boot proper / sunxi64 FIT (40 KiB), sunxi @128 KiB (160 KiB) and @256 KiB (288 KiB),
  // i.MX6 u-boot.img (69 KiB), Rockchip puma (256 KiB), AM335x u-boot.img (384 KiB), Rockchip u-boot.itb (8 MiB).
  'uboot-fit': [40 * KiB, 69 * KiB, 160 * KiB, 256 * KiB, 288 * KiB, 384 * KiB, 8 * MiB],
  'uboot-uimage': [40 * KiB, 69 * KiB, 160 * KiB, 256 * KiB, 288 * KiB, 384 * KiB, 8 * MiB],
};

/** The most a U-Boot image (tree plus external data) is read for its checks. */
const MAX_UBOOT_BYTES = 32 * MiB;

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
export function checkEgon(image: Uint8Array, offset: number): Detected | null {
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
  return {
    kind: 'allwinner-egon',
    offset,
    length,
    valid,
    detail: `Allwinner (sunxi) eGON.BT0 SPL, ${check}${dt ? `, device tree ${dt}` : ''}`,
    ...(dt ? { deviceTrees: [dt] } : {}),
  };
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
export function checkRockchip(head: Uint8Array, offset: number): Detected | null {
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

/** The SoC an i.MX image at 1 KiB is for: from the first register its DCD writes, else from where it runs. */
function imxSoc(head: Uint8Array, self: number, dcd: number): { soc: string; why: string } | null {
  const at = dcd - self;
  // DCD header (tag 0xD2), then a write-data command (tag 0xCC) whose (address, value) pairs follow.
  if (dcd !== 0 && at >= 32 && at + 12 <= head.length && head[at] === 0xd2 && head[at + 4] === 0xcc) {
    const register = u32be(head, at + 8);
    const hex = `0x${register.toString(16).padStart(8, '0')}`;
    if (register >= 0x53f00000 && register < 0x64000000) return { soc: 'i.MX53', why: `DCD writes i.MX53 registers (${hex})` };
    if (register >= 0x02000000 && register < 0x02200000) return { soc: 'i.MX6', why: `DCD writes i.MX6 registers (${hex})` };
    return null;
  }
  if (dcd === 0 && self >= 0x00900000 && self < 0x00940000) return { soc: 'i.MX6', why: 'runs from i.MX6 on-chip RAM' };
  if (dcd === 0 && self >= 0xf8000000 && self < 0xf8020000) return { soc: 'i.MX53', why: 'runs from i.MX53 on-chip RAM' };
  return null;
}

/** Checks an i.MX Image Vector Table (the boot image header read at 1 KiB, or 32/33 KiB on i.MX8M). */
export function checkImxIvt(head: Uint8Array, offset: number): Detected | null {
  if (head[0] !== 0xd1 || head[1] !== 0x00 || head[2] !== 0x20 || ((head[3] ?? 0) & 0xf0) !== 0x40) return null;
  const entry = u32le(head, 4);
  const dcd = u32le(head, 0x0c);
  const bootData = u32le(head, 0x10);
  const self = u32le(head, 0x14);
  const valid = self !== 0 && entry !== 0 && bootData >= self && bootData - self < 64 * KiB;
  const found = offset === KiB ? imxSoc(head, self, dcd) : null;
  const soc = found?.soc ?? (offset === KiB ? 'i.MX53/6/7' : 'i.MX8M');
  return {
    kind: 'imx-ivt',
    offset,
    valid,
    detail: `NXP ${soc} IVT v${(head[3] ?? 0).toString(16)}, self 0x${self.toString(16)}, entry 0x${entry.toString(16)}, ${dcd ? 'with' : 'no'} DCD${found ? ` (${found.why})` : ''}${valid ? '' : ' (pointers inconsistent)'}`,
    ...(found ? { soc: found.soc } : {}),
    dcd: dcd !== 0,
  };
}

/** Checks a TI table of contents with the CHSETTINGS entry (AM335x/OMAP MLO in raw mode). */
export function checkTiToc(head: Uint8Array, offset: number): Detected | null {
  if (ascii(head, 0x14, 10) !== 'CHSETTINGS') return null;
  const start = u32le(head, 0);
  const size = u32le(head, 4);
  const valid = start === 0x40 && size === 0x0c;
  return { kind: 'ti-toc', offset, valid, detail: `TI MLO with CHSETTINGS table of contents${valid ? '' : ` (unexpected entry ${start}/${size})`}` };
}

/** Amlogic BL2 header at sector 1 of the card. */
export function checkAmlogicBl2(head: Uint8Array, offset: number): Detected | null {
  if (ascii(head, 16, 4) !== '@AML') return null;
  return { kind: 'amlogic-bl2', offset, valid: true, detail: 'Amlogic BL2 (@AML header) from sector 1' };
}

/** TF-A Firmware Image Package table of contents (Amlogic signed images keep BL3x in one). */
export function checkFip(head: Uint8Array, offset: number): Detected | null {
  if (u32le(head, 0) !== FIP_TOC_MAGIC) return null;
  const serial = u32le(head, 4);
  return { kind: 'amlogic-fip', offset, valid: serial !== 0, detail: `Amlogic FIP table of contents (serial 0x${serial.toString(16)})` };
}

const UIMAGE_MAGIC = 0x27051956;
const hex32 = (value: number): string => `0x${value.toString(16).padStart(8, '0')}`;

/**
 * U-Boot FIT (a device tree blob; tree, payload extents and hashes checked) or legacy uImage
 * (header and data CRC-32). `image` holds the bytes from the image's start: all of them for the
 * payload checks — what is missing counts as a failure.
 */
export function checkUboot(image: Uint8Array, offset: number): Detected | null {
  const magic = u32be(image, 0);
  if (magic === FDT_MAGIC && image.length >= 40) {
    const total = u32be(image, 4);
    const version = u32be(image, 20);
    const fit = checkFit(image);
    const external = fit.extent > total ? `, ${fit.extent - total} bytes of external data` : '';
    const trees = fit.deviceTrees.length > 0 ? `, device trees ${fit.deviceTrees.join(' ')}` : '';
    return {
      kind: 'uboot-fit',
      offset,
      length: Math.max(total, fit.extent),
      valid: fit.valid,
      detail: `U-Boot FIT image, ${total} bytes${external}, ${fit.images} image(s), dtb v${version}, ${fit.summary}${trees}`,
      ...(fit.deviceTrees.length > 0 ? { deviceTrees: fit.deviceTrees } : {}),
    };
  }
  if (magic === UIMAGE_MAGIC && image.length >= 64) {
    const stored = u32be(image, 4);
    const header = image.slice(0, 64);
    header.fill(0, 4, 8);
    const headerOk = crc32(header) === stored;
    const size = u32be(image, 12);
    const storedData = u32be(image, 24);
    let dataOk = false;
    let data: string;
    if (image.length < 64 + size) {
      data = `data runs past the ${image.length - 64} bytes available`;
    } else {
      const computed = crc32(image.subarray(64, 64 + size));
      dataOk = computed === storedData;
      data = dataOk ? 'data CRC ok' : `data CRC MISMATCH over +64..+${63 + size} (stored ${hex32(storedData)}, computed ${hex32(computed)})`;
    }
    const name = cString(image, 32, 32);
    return {
      kind: 'uboot-uimage',
      offset,
      length: size + 64,
      valid: headerOk && dataOk,
      detail: `U-Boot legacy uImage "${name}", ${size} bytes, header CRC ${headerOk ? 'ok' : 'MISMATCH'}, ${data}`,
    };
  }
  return null;
}

/** Reads a U-Boot image at `offset` whole (a FIT's tree, then its external data); the first 64 bytes when it is neither kind. */
async function readUboot(probe: (offset: number, length: number) => Promise<Uint8Array | null>, offset: number): Promise<Uint8Array | null> {
  const head = await probe(offset, 64);
  if (!head || head.length < 64) return head;
  const magic = u32be(head, 0);
  if (magic === UIMAGE_MAGIC) {
    const size = u32be(head, 12);
    return size + 64 <= MAX_UBOOT_BYTES ? probe(offset, size + 64) : head;
  }
  if (magic !== FDT_MAGIC) return head;
  const total = u32be(head, 4);
  if (total < 40 || total > MAX_UBOOT_BYTES) return head;
  const tree = await probe(offset, total);
  if (!tree) return head;
  let extent = total;
  try {
    extent = fitExtent(tree);
  } catch (error) {
    if (!(error instanceof FdtError)) throw error;
  }
  return extent > tree.length && extent <= MAX_UBOOT_BYTES ? probe(offset, extent) : tree;
}

export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

/** Reads each candidate offset of the card and reports every loader signature found there. */
export async function scanLoaders(read: ReadAt, sizeBytes: number): Promise<Detected[]> {
  const found: Detected[] = [];
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
  const simple: readonly [keyof typeof SCAN_OFFSETS, (head: Uint8Array, offset: number) => Detected | null][] = [
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
    const image = await readUboot(probe, offset);
    const result = image && checkUboot(image, offset);
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
