/**
 * Debian packages without dpkg. A .deb is an `ar` archive ("!<arch>\n", then members with a
 * 60-byte text header: name[16] mtime[12] uid[6] gid[6] mode[8] size[10] "`\n", bodies padded to
 * an even length) holding debian-binary, control.tar.* and data.tar.{xz,zst,gz,bz2,none}; the
 * files are in data.tar, with paths like ./usr/lib/u-boot/<target>/<file>.
 *
 * `parseAr` is pure over the package bytes; `extractDebFolder` decompresses data.tar as a stream
 * and keeps only the regular files (and symlinks, resolved inside the archive) under one folder.
 */
import { Readable } from 'node:stream';
import { CardsmithError } from '../errors';
import { createDecompressor, detectFormat } from '../sources/decompress';
import { readTar } from '../sources/tar';

const AR_MAGIC = '!<arch>\n';
const AR_HEADER = 60;

export interface ArMember {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
}

function text(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

/** Lists the members of an ar archive (System V / GNU names ending in '/', BSD plain names). */
export function parseAr(bytes: Uint8Array, what = 'package'): ArMember[] {
  if (bytes.length < AR_MAGIC.length || text(bytes, 0, AR_MAGIC.length) !== AR_MAGIC) {
    throw CardsmithError.keyed('source-corrupt', 'deb.notPackage', { what }, { offset: 0 });
  }
  const members: ArMember[] = [];
  let at = AR_MAGIC.length;
  while (at + AR_HEADER <= bytes.length) {
    if (text(bytes, at + 58, 2) !== '`\n') throw CardsmithError.keyed('source-corrupt', 'deb.badHeader', { what, offset: at }, { offset: at });
    const name = text(bytes, at, 16).trim().replace(/\/$/, '');
    const size = Number.parseInt(text(bytes, at + 48, 10).trim(), 10);
    const offset = at + AR_HEADER;
    if (!Number.isFinite(size) || size < 0 || offset + size > bytes.length) {
      throw CardsmithError.keyed('source-corrupt', 'deb.pastEnd', { what, name, offset: at }, { offset: at });
    }
    members.push({ name, offset, size });
    at = offset + size + (size % 2);
  }
  return members;
}

/** Files of one package folder, by name relative to that folder. */
export interface DebFolder {
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** Every path the package holds under usr/lib/u-boot (for "what it does contain"). */
  readonly contents: readonly string[];
}

const MAX_FILE = 64 * 1024 * 1024;

/**
 * Extracts the files directly inside `dir` (e.g. usr/lib/u-boot/pine64_plus) from a .deb.
 * `label` names the package in messages (path or URL).
 */
export async function extractDebFolder(deb: Uint8Array, dir: string, label: string): Promise<DebFolder> {
  const members = parseAr(deb, label);
  const data = members.find((member) => member.name.startsWith('data.tar'));
  if (!data) {
    throw CardsmithError.keyed('source-corrupt', 'deb.noData', { package: label, members: members.map((m) => m.name).join(', ') }, { package: label });
  }
  const body = deb.subarray(data.offset, data.offset + data.size);
  const prefix = `${dir.replace(/^\/+|\/+$/g, '')}/`;
  const directChild = (path: string): string | null => {
    const rest = path.startsWith(prefix) ? path.slice(prefix.length) : null;
    return rest && !rest.includes('/') ? rest : null;
  };
  const first = await scanTar(body, data.name, label, (path) => directChild(path) !== null);
  const files = new Map<string, Uint8Array>();
  for (const [path, bytes] of first.files) files.set(directChild(path) ?? path, bytes);
  const links = [...first.links].filter(([path]) => directChild(path) !== null);
  // A link may point into a sibling folder (novena-rawsd/u-boot.img → ../novena/u-boot.img).
  const targets = new Set(links.map(([path, target]) => resolveLink(path, target)));
  const second = targets.size > 0 ? await scanTar(body, data.name, label, (path) => targets.has(path)) : first;
  for (const [path, target] of links) {
    const bytes = second.files.get(resolveLink(path, target));
    if (bytes) files.set(directChild(path) ?? path, bytes);
  }
  return { files, contents: first.contents };
}

interface TarScan {
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly links: ReadonlyMap<string, string>;
  readonly contents: readonly string[];
}

/** One streaming pass over data.tar keeping the regular files `keep` accepts. */
async function scanTar(body: Uint8Array, member: string, label: string, keep: (path: string) => boolean): Promise<TarScan> {
  const format = detectFormat(body.subarray(0, 6));
  if (format === 'zip') throw CardsmithError.keyed('source-corrupt', 'deb.notTar', { package: label, member }, { package: label });
  const decoder = createDecompressor(format);
  Readable.from([body]).pipe(decoder);
  const files = new Map<string, Uint8Array>();
  const links = new Map<string, string>();
  const contents: string[] = [];
  for await (const entry of readTar(decoder as AsyncIterable<Uint8Array>)) {
    if (entry.path.startsWith('usr/lib/u-boot/') && entry.kind !== 'dir') contents.push(entry.path);
    if (entry.kind === 'symlink' && entry.linkTarget) links.set(entry.path, entry.linkTarget);
    if (entry.kind !== 'file' || !keep(entry.path)) continue;
    if (entry.size > MAX_FILE) throw CardsmithError.keyed('bad-input', 'deb.fileTooLarge', { package: label, path: entry.path, bytes: entry.size }, { package: label, path: entry.path });
    const bytes = new Uint8Array(entry.size);
    for await (const chunk of entry.body) bytes.set(chunk.data, chunk.offset);
    files.set(entry.path, bytes);
  }
  return { files, links, contents: contents.sort() };
}

/** Resolves a symlink's target relative to the folder holding the link, inside the archive. */
function resolveLink(linkPath: string, target: string): string {
  const parts = target.startsWith('/') ? [] : linkPath.split('/').slice(0, -1);
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}
