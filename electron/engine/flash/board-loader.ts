/**
 * The board's loader during a flash (`--board`). Before anything is written, the image's own
 * first bytes say what the card will hold: its partition table (read at the card's size) and any
 * loader already at the board's offsets. Without a loader source an image that already carries a
 * valid loader for the board is left as it is; otherwise the loader files are resolved and planned
 * against that table, so an overlap is refused while the card is untouched. After the image body
 * is on the card, the card's layout is read again (the held-back first MiB laid over it) and the
 * plan made from it is what gets written — install.ts's planning, on the flash pipeline's writer.
 *
 * `verify --board` resolves the loader the same way and compares the card's bytes at every planned
 * write with the file's bytes; only without any loader file at hand does it fall back to headers.
 */
import { stat } from 'node:fs/promises';
import { planLoader, plannedBytes } from '../boards/install';
import { inspectDisk } from '../boards/inspect';
import { resolveLoaderFiles, type LoaderFiles } from '../boards/loader-source';
import type { Board } from '../boards/model';
import { readDiskLayout, type ReadAt } from '../disk/read-layout';
import { CardsmithError, toErrorInfo } from '../errors';
import type { JobContext } from '../job';
import { message, type Message } from '../messages';
import { alignedBuffers, alignUp } from './aligned';
import type { TargetDevice } from './device';
import { differingRanges } from './digests';
import type { ImageInput } from './image-input';
import { cardReader, type Patch } from './patch';
import { HEAD_BYTES, mergeRanges, type ByteRange } from './plan';

const WASM_PAGE = 65536;

export type LoaderStep = { readonly kind: 'skip'; readonly reason: Message } | { readonly kind: 'write'; readonly board: Board; readonly loader: LoaderFiles };

/** The highest card byte any of the board's loader layouts reaches. */
function loaderReach(board: Board): number {
  const writes = [...board.writes, ...board.alternativeWrites.flatMap((alt) => alt.writes)];
  return Math.max(HEAD_BYTES, ...writes.map((w) => w.offsetBytes + w.maxBytes));
}

/** The first bytes of the image (up to where the board's loaders reach), readable by offset. */
async function imageHead(input: ImageInput, board: Board): Promise<{ read: ReadAt; bytes: number }> {
  const want = input.sizeBytes === null ? loaderReach(board) : Math.min(loaderReach(board), input.sizeBytes);
  const buffer = alignedBuffers(1, alignUp(Math.max(want, 1), WASM_PAGE))[0] as Buffer;
  const got = await input.read(buffer.subarray(0, want));
  return {
    bytes: got,
    read: async (offset, length) => {
      const out = new Uint8Array(length);
      if (offset < got) out.set(buffer.subarray(offset, Math.min(got, offset + length)));
      return out;
    },
  };
}

async function defaultLoader(board: Board): Promise<LoaderFiles> {
  try {
    return await resolveLoaderFiles(board, undefined);
  } catch (error) {
    const info = toErrorInfo(error);
    if (info.cause !== 'bad-input') throw error;
    throw CardsmithError.keyed('bad-input', 'flash.noLoader', { board: board.name }, { board: board.id, reason: info.message, ...info.details }, {
      hint: message('flash.noLoaderHint'),
      notes: info.key === undefined ? [] : [{ key: info.key, params: info.params ?? {} }],
    });
  }
}

/**
 * Decides the loader step before the card is touched. `open` opens the image afresh (its first
 * bytes are read here and it is closed); a plain raw image file can also be an `image:<folder>`
 * loader source.
 */
export async function prepareLoader(
  board: Board,
  from: string | undefined,
  open: () => Promise<ImageInput>,
  deviceBytes: number,
  ctx: JobContext,
): Promise<LoaderStep> {
  if (board.bootMethod !== 'raw-offset') return { kind: 'skip', reason: message('phase.bootloader.noRawOffsets', { board: board.name, method: board.bootMethod }) };
  const input = await open();
  try {
    const head = await imageHead(input, board);
    const layout = await readDiskLayout(head.read, deviceBytes);
    if (from === undefined) {
      const inspection = await inspectDisk(input.path, head.read, Math.max(head.bytes, 1), [board]);
      if (inspection.consistentBoards.includes(board.id)) {
        const found = inspection.loaders.map((l) => `${l.kind} at byte ${l.offset}`).join(', ');
        return { kind: 'skip', reason: message('phase.bootloader.imageHasLoader', { board: board.name, found }) };
      }
    }
    const plain = input.compression === 'none' && (await stat(input.path).then((s) => s.isFile(), () => false));
    const loader =
      from === undefined
        ? await defaultLoader(board)
        : await resolveLoaderFiles(board, from, { imagePath: plain ? input.path : undefined, partitionStarts: layout.partitions.map((p) => p.start), signal: ctx.signal });
    const planned = planLoader(board, layout, loader, ctx);
    ctx.log('info', `loader for ${board.name} from ${loader.origin}: ${planned.map((w) => `${w.file} at byte ${w.offset}`).join(', ')}`);
    return { kind: 'write', board, loader };
  } finally {
    await input.close();
  }
}

/** The loader's writes planned against the card layout `read` shows. */
async function plannedPatches(step: Extract<LoaderStep, { kind: 'write' }>, read: ReadAt, deviceBytes: number, ctx: JobContext): Promise<Patch[]> {
  const layout = await readDiskLayout(read, deviceBytes);
  const planned = planLoader(step.board, layout, step.loader, ctx);
  return planned.map((write) => ({ offset: write.offset, bytes: plannedBytes(step.loader, write) }));
}

/** After the image body: plans against the card's layout as it will be, and returns the writes. */
export async function loaderPatches(step: Extract<LoaderStep, { kind: 'write' }>, read: ReadAt, deviceBytes: number, ctx: JobContext): Promise<Patch[]> {
  ctx.phase('bootloader', 'start', message('phase.bootloader.from', { board: step.board.name, origin: step.loader.origin }));
  return plannedPatches(step, read, deviceBytes, ctx);
}

/**
 * The loader `verify --board` holds the card to, resolved as a flash resolves it: the request's
 * source, else the image's own loader when it holds a valid one (a skip step), else the host's
 * Debian files. Null when none is at hand (no source given and no host files): then only the
 * headers can be judged. `open` is null when there is no image (a bmap alone).
 */
export async function verifyLoaderStep(
  board: Board,
  from: string | undefined,
  open: (() => Promise<ImageInput>) | null,
  deviceBytes: number,
  ctx: JobContext,
): Promise<LoaderStep | null> {
  try {
    if (open) return await prepareLoader(board, from, open, deviceBytes, ctx);
    if (board.bootMethod !== 'raw-offset') return { kind: 'skip', reason: message('phase.bootloader.noRawOffsets', { board: board.name, method: board.bootMethod }) };
    return { kind: 'write', board, loader: await resolveLoaderFiles(board, from, { signal: ctx.signal }) };
  } catch (error) {
    const info = toErrorInfo(error);
    if (from !== undefined || info.cause !== 'bad-input') throw error;
    ctx.log('info', `no loader files at hand for ${board.name} (${info.message}); judging the loader by its headers`);
    return null;
  }
}

/** The card's bytes at each planned write of the loader against the file's bytes: the ranges checked and those that differ. */
export async function compareLoader(
  step: Extract<LoaderStep, { kind: 'write' }>,
  target: TargetDevice,
  deviceBytes: number,
  ctx: JobContext,
): Promise<{ readonly checked: ByteRange[]; readonly mismatches: ByteRange[] }> {
  const read = cardReader(target, deviceBytes);
  const patches = await plannedPatches(step, read, deviceBytes, ctx);
  const mismatches: ByteRange[] = [];
  for (const patch of patches) {
    ctx.throwIfCancelled();
    const card = await read(patch.offset, patch.bytes.length);
    if (card.length < patch.bytes.length) {
      throw CardsmithError.keyed('too-small', 'flash.loaderPastEnd', { device: target.path, offset: patch.offset + card.length, at: patch.offset }, {
        device: target.path,
        offset: patch.offset + card.length,
      });
    }
    mismatches.push(...differingRanges(patch.bytes, card, patch.offset));
  }
  return { checked: mergeRanges(patches.map((p) => ({ start: p.offset, end: p.offset + p.bytes.length }))), mismatches: mergeRanges(mismatches) };
}
