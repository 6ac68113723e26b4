/**
 * FAT directory names. Every entry has an 8.3 short name (11 bytes, upper case, space padded);
 * names that are not already a valid upper-case 8.3 name also get a VFAT long name: a run of
 * 32-byte LFN entries (13 UTF-16 units each, stored last-part-first in front of the short entry),
 * each carrying a checksum of the short name so a reader can tell they belong together. Short names
 * for long names are derived Windows-style: the basis (upper case, unsupported characters as '_',
 * spaces and leading dots dropped) shortened to make room for a `~N` tail unique in the directory;
 * a name that is 8.3 apart from letter case just gets upper-cased (plus its long name).
 */
import { CardsmithError } from '../../errors';

export const ENTRY_SIZE = 32;
export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;
const ATTR_LONG_NAME = 0x0f;
const LFN_CHARS = 13;
const MAX_LONG_NAME = 255;

/** Characters a long name may not contain, besides control characters. */
const LONG_FORBIDDEN = new Set('\\/:*?"<>|'.split(''));
/** Characters allowed in a short name besides A-Z and 0-9. */
const SHORT_EXTRA = new Set("!#$%&'()-@^_`{}~".split(''));

export interface DirName {
  /** 11 bytes: base (8) + extension (3), space padded. */
  readonly short: Uint8Array;
  /** The long name, or null when the short name says it all. */
  readonly long: string | null;
}

function isShortChar(c: string): boolean {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || SHORT_EXTRA.has(c);
}

function pad(text: string, length: number): string {
  return text.padEnd(length, ' ');
}

/** The 11-byte form of an already valid upper-case 8.3 name, or null. */
function exactShort(name: string): string | null {
  if (name === '.' || name === '..') return pad(name, 11);
  const dot = name.lastIndexOf('.');
  const base = dot === -1 ? name : name.slice(0, dot);
  const ext = dot === -1 ? '' : name.slice(dot + 1);
  if (base.length < 1 || base.length > 8 || ext.length > 3 || (dot !== -1 && ext.length === 0)) return null;
  if (![...base, ...ext].every(isShortChar)) return null;
  return pad(base, 8) + pad(ext, 3);
}

function basis(part: string): string {
  return [...part.toUpperCase()]
    .filter((c) => c !== ' ')
    .map((c) => (isShortChar(c) ? c : '_'))
    .join('');
}

/** Checks a long name and explains what is wrong with it, naming the path. */
export function checkLongName(name: string, path: string): void {
  if (name.length === 0 || name === '.' || name === '..') throw CardsmithError.keyed('bad-input', 'fat.noName', { path }, { path });
  if (name.length > MAX_LONG_NAME) {
    throw CardsmithError.keyed('bad-input', 'fat.longName', { path, length: name.length, max: MAX_LONG_NAME }, { path, length: name.length });
  }
  if ([...name].some((c) => LONG_FORBIDDEN.has(c) || c.charCodeAt(0) < 0x20)) throw CardsmithError.keyed('bad-input', 'fat.badChar', { path }, { path });
  if (/[ .]$/.test(name)) throw CardsmithError.keyed('bad-input', 'fat.trailing', { path }, { path });
}

/**
 * Assigns short names (and long names where needed) to the names of one directory, in order.
 * Names must already be unique ignoring case; the caller checks that with `foldName`. `existing`
 * holds the 11-character short names a directory already has (when adding to one on disk).
 */
export function assignNames(names: readonly string[], existing: ReadonlySet<string> = new Set()): DirName[] {
  const taken = new Set<string>(existing);
  const result: (DirName | null)[] = names.map((name) => {
    const exact = exactShort(name);
    if (exact === null || existing.has(exact)) return null;
    taken.add(exact);
    return { short: ascii(exact), long: null };
  });
  return names.map((name, i) => {
    const done = result[i];
    if (done) return done;
    // A name that is 8.3 apart from case keeps its upper-cased form, without a tail.
    const upper = exactShort(name.toUpperCase());
    if (upper !== null && !taken.has(upper)) {
      taken.add(upper);
      return { short: ascii(upper), long: name };
    }
    const trimmed = name.replace(/^\.+/, '');
    const dot = trimmed.lastIndexOf('.');
    const base = basis(dot > 0 ? trimmed.slice(0, dot) : trimmed) || '_';
    const ext = dot > 0 ? basis(trimmed.slice(dot + 1)).slice(0, 3) : '';
    for (let n = 1; n < 1_000_000; n++) {
      const tail = `~${n}`;
      const candidate = pad(base.slice(0, 8 - tail.length) + tail, 8) + pad(ext, 3);
      if (!taken.has(candidate)) {
        taken.add(candidate);
        return { short: ascii(candidate), long: name };
      }
    }
    throw CardsmithError.keyed('bad-input', 'fat.similarNames', { name });
  });
}

/** The key two names collide on in a FAT directory (FAT compares names ignoring case). */
export function foldName(name: string): string {
  return name.toUpperCase();
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export function shortNameChecksum(short: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + short[i]!) & 0xff;
  return sum;
}

/** Number of 32-byte entries a name takes (LFN entries + the short entry). */
export function entryCount(name: DirName): number {
  return name.long === null ? 1 : Math.ceil(name.long.length / LFN_CHARS) + 1;
}

/** The LFN entries for `name.long`, in on-disk order (highest sequence number first). */
export function encodeLongName(name: DirName): Uint8Array {
  if (name.long === null) return new Uint8Array(0);
  const units = Array.from({ length: name.long.length }, (_, i) => name.long!.charCodeAt(i));
  const count = Math.ceil(units.length / LFN_CHARS);
  const out = new Uint8Array(count * ENTRY_SIZE);
  const view = new DataView(out.buffer);
  const checksum = shortNameChecksum(name.short);
  const slots = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
  for (let seq = 1; seq <= count; seq++) {
    const at = (count - seq) * ENTRY_SIZE;
    out[at] = seq | (seq === count ? 0x40 : 0);
    out[at + 11] = ATTR_LONG_NAME;
    out[at + 13] = checksum;
    slots.forEach((slot, k) => {
      const index = (seq - 1) * LFN_CHARS + k;
      const unit = index < units.length ? units[index]! : index === units.length ? 0x0000 : 0xffff;
      view.setUint16(at + slot, unit, true);
    });
  }
  return out;
}

/** FAT date and time (2-second resolution) of a Unix time, read as UTC, clamped to 1980..2107. */
export function fatDateTime(unixSeconds: number): { date: number; time: number } {
  const min = Date.UTC(1980, 0, 1) / 1000;
  const max = Date.UTC(2107, 11, 31, 23, 59, 58) / 1000;
  const d = new Date(Math.min(max, Math.max(min, Math.floor(unixSeconds))) * 1000);
  return {
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
  };
}
