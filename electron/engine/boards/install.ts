/**
 * The `installLoader` operation: read the target's partition table, resolve the board's loader
 * files, plan the writes (planner.ts refuses overlaps), write them in place with dd
 * conv=notrunc semantics, flush, and read every byte back — from a card through its O_DIRECT
 * descriptor, so the readback reads the card and not the page cache. The target is an image file
 * or a card reached through a CardAccess (checked by the safety rules, here or by the elevated part).
 */
import type { ResultOf } from '../api';
import { readDiskLayout } from '../disk/read-layout';
import { CardsmithError } from '../errors';
import { localCardAccess, type CardAccess } from '../flash/card';
import type { JobContext } from '../job';
import { findBoard } from './db';
import type { Board } from './model';
import type { DiskLayout } from '../disk/model';
import { fittingLayouts, resolveLoaderFiles, type ChosenLayout, type LoaderFiles } from './loader-source';
import { planLoaderWrites, type LoaderSizes, type PlannedWrite } from './planner';
import { openLoaderTarget } from './target-io';
import { differingRanges } from '../flash/digests';
import { mergeRanges, type ByteRange } from '../flash/plan';
import type { ReadAt } from '../disk/read-layout';
import { MAX_REPORTED_RANGES } from '../api';
import { message } from '../messages';

export interface InstallRequest {
  readonly board: string;
  readonly target: string;
  readonly from?: string;
  readonly allowLoop: boolean;
}

/**
 * Plans the first layout the files complete that fits the card: the primary one, else an
 * alternative the boot ROM also reads (sunxi H3+ at 128 KiB beside a standard GPT). When none
 * fits, the primary layout's refusal is the one reported.
 */
function planFirstFitting(board: Board, layout: DiskLayout, sizes: LoaderSizes, layouts: readonly ChosenLayout[], ctx: JobContext): PlannedWrite[] {
  let firstRefusal: CardsmithError | undefined;
  for (const candidate of layouts) {
    try {
      const planned = planLoaderWrites(board, layout, sizes, candidate.writes);
      if (candidate.label) ctx.log('info', `using the "${candidate.label}" layout`);
      return planned;
    } catch (error) {
      if (!(error instanceof CardsmithError) || error.info.cause !== 'overlap') throw error;
      firstRefusal ??= error;
    }
  }
  throw firstRefusal ?? new CardsmithError('internal', `no loader layout for ${board.name}`);
}

/** The bytes of `write`, sliced from its loader file. */
export function plannedBytes(loader: LoaderFiles, write: PlannedWrite): Uint8Array {
  const bytes = loader.files.get(write.file)?.subarray(write.sourceOffset, write.sourceOffset + write.length);
  if (!bytes || bytes.length !== write.length) throw new CardsmithError('internal', `planned write of ${write.file} has no matching bytes`);
  return bytes;
}

/** Plans `loader` onto a disk with `layout`: the first fitting layout, overlaps refused. */
export function planLoader(board: Board, layout: DiskLayout, loader: LoaderFiles, ctx: JobContext): PlannedWrite[] {
  const sizes = new Map([...loader.files].map(([name, bytes]) => [name, bytes.length]));
  return planFirstFitting(board, layout, sizes, fittingLayouts(board, new Set(loader.files.keys()), loader.origin), ctx);
}

/** Compares every planned write with what the target now holds; throws with the differing ranges. */
async function readBack(read: ReadAt, loader: LoaderFiles, planned: readonly PlannedWrite[]): Promise<void> {
  for (const write of planned) {
    const expected = plannedBytes(loader, write);
    const actual = await read(write.offset, write.length);
    const differ: ByteRange[] = actual.length < expected.length ? [{ start: write.offset + actual.length, end: write.offset + write.length }] : mergeRanges(differingRanges(expected, actual, write.offset));
    if (differ.length > 0) {
      const shown = differ.slice(0, 3).map((r) => `${r.start}..${r.end - 1}`).join(', ');
      throw CardsmithError.keyed('checksum-mismatch', 'loader.readBack', { file: write.file, offset: write.offset, ranges: shown, more: Math.max(0, differ.length - 3) }, {
        file: write.file,
        offset: write.offset,
        mismatches: differ.slice(0, MAX_REPORTED_RANGES),
        mismatchCount: differ.length,
      });
    }
  }
}

export async function installLoader(request: InstallRequest, ctx: JobContext, access: CardAccess = localCardAccess): Promise<ResultOf<'installLoader'>> {
  const board = findBoard(request.board);
  const target = await openLoaderTarget(request.target, { allowLoop: request.allowLoop, access, ctx });
  try {
    const layout = await readDiskLayout(target.read, target.size);
    ctx.log('info', `${request.target}: ${layout.table} partition table, ${layout.partitions.length} partition(s)`);
    const loader = await resolveLoaderFiles(board, request.from, {
      imagePath: target.isImage ? request.target : undefined,
      partitionStarts: layout.partitions.map((partition) => partition.start),
      signal: ctx.signal,
    });
    const planned = planLoader(board, layout, loader, ctx);
    ctx.throwIfCancelled();

    const total = planned.reduce((sum, write) => sum + write.length, 0);
    ctx.phase('bootloader', 'start', message('phase.bootloader.from', { board: board.name, origin: loader.origin }));
    const progress = ctx.progress('bootloader', total);
    let done = 0;
    for (const write of planned) {
      const bytes = plannedBytes(loader, write);
      await target.write(bytes, write.offset);
      done += bytes.length;
      progress.update(done);
    }
    await target.sync();
    progress.finish();
    await readBack(target.read, loader, planned);
    ctx.phase('bootloader', 'done', message('phase.bootloader.verified', { count: planned.length }));
    return { target: request.target, writes: planned.map((write) => ({ file: write.file, offset: write.offset, length: write.length })) };
  } finally {
    await target.close();
  }
}
