/**
 * Where a board's loader files come from: a local file or folder, a Debian .deb (path or http
 * URL) unpacked in-process, or a folder inside the image itself (Fedora images carry
 * /usr/share/uboot/<target>/ on their root filesystem). The result is a set of named files plus
 * the board layout (primary or an alternative) those files complete.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { CardsmithError } from '../errors';
import { message } from '../messages';
import { isHttpUrl } from '../shared/pure';
import { get } from '../sources/http';
import { runTool, ToolError } from '../tools';
import { extractDebFolder } from './deb';
import type { Board, DebianFolder, LoaderWrite } from './model';

const MAX_DOWNLOAD = 256 * 1024 * 1024;

export interface LoaderFiles {
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** Where the files came from, for logs and results. */
  readonly origin: string;
}

export interface ChosenLayout {
  /** Alternative label, or undefined for the board's primary writes. */
  readonly label: string | undefined;
  readonly writes: readonly LoaderWrite[];
}

/** The Debian folder that holds (some of) the board's files, if Debian ships any. */
export function debianFolderOf(board: Board): DebianFolder | undefined {
  switch (board.loader.kind) {
    case 'debian':
      return board.loader;
    case 'user':
    case 'none':
      return board.loader.debianPart;
  }
}

const filesOf = (writes: readonly LoaderWrite[]): string[] => [...new Set(writes.map((write) => write.file))];

/** The layouts (primary first, then alternatives) whose every file is among `available`; throws when none is. */
export function fittingLayouts(board: Board, available: ReadonlySet<string>, origin: string): ChosenLayout[] {
  const layouts: ChosenLayout[] = [
    { label: undefined, writes: board.writes },
    ...board.alternativeWrites.map((alternative) => ({ label: alternative.label, writes: alternative.writes })),
  ];
  const fits = layouts.filter((layout) => layout.writes.length > 0 && filesOf(layout.writes).every((file) => available.has(file)));
  if (fits.length > 0) return fits;
  const needed = layouts.map((layout) => filesOf(layout.writes).join(' + ')).filter(Boolean);
  throw CardsmithError.keyed('bad-input', 'loader.missingFiles', { origin, board: board.name, needed: needed.join(' | '), available: [...available].sort().join(', ') || '—' }, {
    board: board.id,
    origin,
    needed,
    available: [...available].sort(),
  });
}

/** The first layout (primary, then alternatives) the files complete. */
export function chooseLayout(board: Board, available: ReadonlySet<string>, origin: string): ChosenLayout {
  const [first] = fittingLayouts(board, available, origin);
  if (!first) throw new CardsmithError('internal', `no loader layout for ${board.name}`);
  return first;
}

/** Renames a lone file to the board's single file name when its own name is not one the board uses. */
function nameSingleFile(board: Board, name: string, bytes: Uint8Array): Map<string, Uint8Array> {
  const all = new Set([board.writes, ...board.alternativeWrites.map((alternative) => alternative.writes)].flatMap(filesOf));
  if (all.has(name)) return new Map([[name, bytes]]);
  const primary = filesOf(board.writes);
  if (primary.length === 1 && primary[0]) return new Map([[primary[0], bytes]]);
  throw CardsmithError.keyed('bad-input', 'loader.singleFile', { board: board.name, needed: primary.join(' + '), file: name }, { board: board.id, file: name, needed: primary });
}

async function download(url: string, signal?: AbortSignal): Promise<Uint8Array> {
  const response = await get(url, {}, { signal });
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_DOWNLOAD) {
      response.destroy();
      throw CardsmithError.keyed('bad-input', 'loader.tooLarge', { url, maxBytes: MAX_DOWNLOAD }, { url });
    }
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** Reads the board's folder out of a .deb, failing with what the package does hold. */
export async function filesFromDeb(board: Board, deb: Uint8Array, label: string): Promise<LoaderFiles> {
  const folder = debianFolderOf(board);
  if (!folder) {
    throw CardsmithError.keyed('bad-input', 'loader.notPackaged', { board: board.name }, { board: board.id, package: label });
  }
  const { files, contents } = await extractDebFolder(deb, folder.dir, label);
  const missing = folder.files.filter((file) => !files.has(file));
  if (missing.length > 0) {
    const there = [...new Set(contents.map((path) => path.split('/').slice(0, 4).join('/')))];
    const said = { package: label, missing: missing.map((file) => `${folder.dir}/${file}`).join(', '), board: board.name, expected: `${folder.package}:${folder.arch}` };
    throw CardsmithError.keyed(
      'bad-input',
      files.size > 0 ? 'loader.debFolderHolds' : there.length > 0 ? 'loader.debContains' : 'loader.debNoFolders',
      { ...said, found: files.size > 0 ? [...files.keys()].sort().join(', ') : there.join(', ') },
      { board: board.id, package: label, expectedPackage: `${folder.package}:${folder.arch}`, path: folder.dir, missing, contains: files.size > 0 ? [...files.keys()].sort() : there },
    );
  }
  return { files, origin: `${label}:${folder.dir}` };
}

async function filesFromDir(dir: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isFile() || (entry.isSymbolicLink() && (await stat(path)).isFile())) files.set(entry.name, new Uint8Array(await readFile(path)));
  }
  return files;
}

/**
 * Resolves `from` for `board`:
 * - undefined: the host's own /usr/lib/u-boot/<target> (Debian with the u-boot package installed);
 * - "image:<folder>" (folder inside `imagePath`'s partitions, read with debugfs for ext2/3/4);
 * - an http(s) URL of a .deb or of a single loader file;
 * - a local .deb, folder or single file.
 */
export async function resolveLoaderFiles(board: Board, from: string | undefined, options: { imagePath?: string; partitionStarts?: readonly number[]; signal?: AbortSignal } = {}): Promise<LoaderFiles> {
  if (board.bootMethod !== 'raw-offset') {
    const note = board.loader.kind === 'debian' ? '' : ` (${board.loader.note})`;
    const said = { board: board.name, note, files: board.bootPartition.firmwareFiles.join(', ') };
    throw CardsmithError.keyed('bad-input', board.bootMethod === 'firmware-files' ? 'loader.firmwareFiles' : 'loader.nothingWritten', said, { board: board.id, bootMethod: board.bootMethod });
  }
  if (from === undefined) return defaultSource(board);
  if (from.startsWith('image:')) return filesFromImage(board, from.slice('image:'.length), options);
  if (isHttpUrl(from)) {
    const bytes = await download(from, options.signal);
    const name = basename(new URL(from).pathname);
    if (name.endsWith('.deb')) return filesFromDeb(board, bytes, from);
    return { files: nameSingleFile(board, name, bytes), origin: from };
  }
  let info;
  try {
    info = await stat(from);
  } catch {
    throw CardsmithError.keyed('bad-input', 'loader.sourceMissing', { path: from }, { path: from });
  }
  if (info.isDirectory()) return { files: await filesFromDir(from), origin: from };
  const bytes = new Uint8Array(await readFile(from));
  if (from.endsWith('.deb') || String.fromCharCode(...bytes.subarray(0, 8)) === '!<arch>\n') return filesFromDeb(board, bytes, from);
  return { files: nameSingleFile(board, basename(from), bytes), origin: from };
}

async function defaultSource(board: Board): Promise<LoaderFiles> {
  const folder = debianFolderOf(board);
  if (board.loader.kind === 'debian' && folder) {
    const hostDir = `/${folder.dir}`;
    const present = await stat(hostDir).then((info) => info.isDirectory(), () => false);
    if (present) return { files: await filesFromDir(hostDir), origin: hostDir };
    throw CardsmithError.keyed(
      'bad-input',
      'loader.noSource',
      { board: board.name, dir: hostDir },
      { board: board.id, package: `${folder.package}:${folder.arch}`, path: folder.dir },
      { hint: message('loader.noSourceHint', { package: folder.package, arch: folder.arch, files: folder.files.join(' + ') }) },
    );
  }
  const note = board.loader.kind === 'debian' ? '' : board.loader.note;
  throw CardsmithError.keyed('bad-input', 'loader.mustSupply', { board: board.name, note }, { board: board.id, needed: filesOf(board.writes) });
}

/** Copies `folder` out of the first ext2/3/4 partition of the image that has it, using debugfs. */
async function filesFromImage(board: Board, folder: string, options: { imagePath?: string; partitionStarts?: readonly number[] }): Promise<LoaderFiles> {
  const image = options.imagePath;
  if (!image) throw CardsmithError.keyed('bad-input', 'loader.imageNeeded', {}, { folder });
  const scratch = await mkdtemp(join(tmpdir(), 'cardsmith-loader-'));
  try {
    for (const start of options.partitionStarts ?? []) {
      const out = join(scratch, String(start));
      await mkdir(out);
      try {
        await runTool('debugfs', ['-R', `rdump ${folder} ${out}`, `${image}?offset=${start}`], { timeout: 60_000, package: 'e2fsprogs' });
        const dumped = join(out, basename(folder));
        const files = await filesFromDir(dumped).catch(() => new Map<string, Uint8Array>());
        if (files.size > 0) return { files, origin: `${image}@${start}:${folder}` };
      } catch (error) {
        if (error instanceof ToolError && error.failure === 'missing') {
          throw CardsmithError.keyed('bad-input', 'loader.needsDebugfs', {}, { folder }, { hint: message('loader.needsDebugfsHint') });
        }
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  throw CardsmithError.keyed('bad-input', 'loader.notInImage', { image, folder, board: board.name }, { image, folder, board: board.id });
}
