/**
 * The flash and verify operations, end to end: open the image, re-check the target's safety in
 * this (privileged) process, refuse a card that is too small before touching it, unmount, open
 * exclusively, write, fsync, read back, eject. Every step goes to the job's log file; every
 * failure leaves as a classified error that names the log file.
 */
import { MAX_REPORTED_RANGES, type Request, type ResultOf } from '../api';
import { findBoard } from '../boards/db';
import { inspectDisk } from '../boards/inspect';
import type { Board } from '../boards/model';
import { CardsmithError, toErrorInfo } from '../errors';
import type { JobContext } from '../job';
import { localCardAccess, type CardAccess } from './card';
import type { TargetDevice } from './device';
import { bmapRanges, openImageInput, readBmapFile, refuseSmallCard, type ImageInput } from './image-input';
import { JobLog } from './log';
import { HEAD_BYTES, mergeRanges, planWrite, subtractRanges, type ByteRange } from './plan';
import { verifyAgainstBmap, verifyAgainstImage, verifyWritten, type VerifyOutcome } from './verify';
import { InterruptedWrite, writeImage, zeroHead } from './write';
import { compareLoader, loaderPatches, prepareLoader, verifyLoaderStep, type LoaderStep } from './board-loader';
import { cardReader } from './patch';
import { buildForCard, type BuiltImage } from './built-image';
import { deviceZeroOut } from './zero-out';
import { assertCapacity } from '../check/remember';
import { DEFAULT_HOLE_POLICY } from './holes';
import type { ReadAt } from '../disk/read-layout';
import { firstBootPatches, prepareFirstBoot } from '../customise/firstboot/flash-step';
import { english, message } from '../messages';

type FlashRequest = Extract<Request, { op: 'flash' }>;
type FlashBuild = NonNullable<FlashRequest['build']>;
type VerifyRequest = Extract<Request, { op: 'verify' }>;

/** The error a person sees, with the log file named. */
function reported(error: unknown, log: JobLog): CardsmithError {
  const info = toErrorInfo(error);
  const out = CardsmithError.fromInfo(info);
  out.info.logFile = log.path;
  log.line('error', `${info.cause}: ${info.message} ${JSON.stringify(info.details ?? {})}`);
  return out;
}

function describeRanges(ranges: readonly ByteRange[]): string {
  const shown = ranges.slice(0, 5).map((r) => `${r.start}..${r.end - 1}`);
  return `bytes ${shown.join(', ')}${ranges.length > 5 ? ` and ${ranges.length - 5} more ranges` : ''}`;
}

/** The first ranges for a result or error (the log gets every one), with their count and bytes. */
function boundedRanges(ranges: readonly ByteRange[], log: JobLog): { mismatches: ByteRange[]; mismatchCount: number; mismatchBytes: number } {
  for (const range of ranges) log.line('info', `mismatch ${range.start}..${range.end - 1}`);
  return {
    mismatches: ranges.slice(0, MAX_REPORTED_RANGES),
    mismatchCount: ranges.length,
    mismatchBytes: ranges.reduce((sum, r) => sum + r.end - r.start, 0),
  };
}

/** The flash request's image: exactly one of an existing image and a recipe built for the card. */
function imageOrigin(request: FlashRequest): { kind: 'source'; source: string } | { kind: 'build'; build: FlashBuild } {
  if (request.source !== undefined && request.build === undefined) return { kind: 'source', source: request.source };
  if (request.build !== undefined && request.source === undefined) return { kind: 'build', build: request.build };
  throw CardsmithError.keyed('bad-input', 'flash.oneSource', {}, {
    source: request.source ?? null,
    build: request.build ? 'given' : null,
  });
}

/** The loader step: none without a board; a built image already holds the loader its build placed. */
async function loaderStep(request: FlashRequest, origin: ReturnType<typeof imageOrigin>, image: string, deviceBytes: number, ctx: JobContext): Promise<LoaderStep> {
  const boardId = request.board ?? (origin.kind === 'build' ? origin.build.board : undefined);
  if (boardId === undefined) return { kind: 'skip', reason: message('phase.bootloader.noBoard') };
  if (origin.kind === 'build') return { kind: 'skip', reason: message('phase.bootloader.built', { board: boardId }) };
  return prepareLoader(findBoard(boardId), request.loaderFrom, () => openImageInput(image, ctx), deviceBytes, ctx);
}

export async function flash(request: FlashRequest, outer: JobContext, access: CardAccess = localCardAccess): Promise<ResultOf<'flash'>> {
  const origin = imageOrigin(request);
  const log = JobLog.create('flash', request.device);
  const ctx = log.wrap(outer);
  const shown = origin.kind === 'source' ? origin.source : `a build of ${origin.build.rootfs} for ${origin.build.board}`;
  ctx.log('info', `flash ${shown} → ${request.device} (verify ${request.verify}, log ${log.path})`);
  let input: ImageInput | null = null;
  let target: TargetDevice | null = null;
  let built: BuiltImage | null = null;
  try {
    const card = await access(request.device, { allowLoop: request.allowLoop, sourcePath: origin.kind === 'source' ? origin.source : origin.build.rootfs });
    const deviceBytes = card.info.sizeBytes;
    if (origin.kind === 'build') built = await buildForCard({ ...origin.build, loaderFrom: origin.build.loaderFrom ?? request.loaderFrom }, deviceBytes, ctx);
    const image = built ? built.path : (origin as { source: string }).source;
    const inputOptions = { bmapPath: origin.kind === 'source' ? request.bmap : undefined };
    input = await openImageInput(image, ctx, inputOptions);
    ctx.log('info', `image: ${input.compression}, ${input.sizeBytes ?? 'unknown'} bytes${input.bmap ? `, bmap with ${input.bmap.ranges.length} ranges` : ''}`);
    refuseSmallCard(input, deviceBytes, card.info.device);
    await assertCapacity(card.info, input.sizeBytes);
    const plan = planWrite({ deviceBytes, imageBytes: input.sizeBytes, mapped: input.bmap ? bmapRanges(input.bmap) : null });
    ctx.log('info', `target ${card.info.device}: ${card.info.description}, ${deviceBytes} bytes; ${plan.dataBytes ?? 'unknown'} data bytes to write`);
    for (const warning of card.info.warnings) ctx.log('warn', warning);
    const step = await loaderStep(request, origin, image, deviceBytes, ctx);
    if (request.customise && origin.kind === 'build') throw CardsmithError.keyed('bad-input', 'flash.settingsInRecipe', {}, {});
    const firstBoot = await prepareFirstBoot(request, image, { path: image, compression: input.compression }, ctx);

    target = await card.open('write', ctx);
    ctx.log('debug', `opened ${target.path} exclusively${target.direct ? ' with O_DIRECT' : ''}, block size ${target.blockSize}`);

    ctx.phase('write', 'start');
    // One source pass: what goes to the card is digested as it is written, and the readback
    // compares the card with those digests, so no URL is fetched and no codec decoded twice. A local
    // raw file is the exception: the readback compares the card with the file itself, byte for
    // byte (a re-read from the page cache is several times faster than hashing), unless holes the
    // bmap leaves out are promised zero, which only the digests cover.
    const holes = request.holes ?? DEFAULT_HOLE_POLICY;
    const rereadable = input.rereadable && (input.bmap === null || holes === 'skip');
    const written = await writeImage(input, target, plan, ctx, {
      recordDigests: request.verify && !rereadable,
      deviceBytes,
      holes,
      zeroOut: deviceZeroOut(target.path, (m) => ctx.log('warn', m)),
      ...(step.kind === 'write' || firstBoot
        ? {
            patches: async (read: ReadAt) => [
              ...(step.kind === 'write' ? await loaderPatches(step, read, deviceBytes, ctx) : []),
              ...(firstBoot ? await firstBootPatches(firstBoot, read, input?.sizeBytes ?? deviceBytes, ctx) : []),
            ],
          }
        : {}),
    });
    ctx.phase('write', 'done', message('phase.write.done', { dataBytes: written.dataBytes, imageBytes: written.imageBytes, zeroedOut: written.zeroedOutBytes, unwritten: written.unwrittenZeroBytes, skipped: written.skippedHoleBytes }));
    const loaderRanges = mergeRanges(written.patchPieces.map((p) => ({ start: p.start, end: p.start + p.length })));
    if (step.kind === 'write') ctx.phase('bootloader', 'done', message('phase.bootloader.written', { ranges: loaderRanges.map((r) => `${r.start}..${r.end - 1}`).join(', '), origin: step.loader.origin }));
    else ctx.phase('bootloader', 'skipped', step.reason);
    await input.close();
    input = null;

    let verified = false;
    if (request.verify) {
      ctx.phase('verify', 'start');
      let outcome: VerifyOutcome;
      try {
        if (rereadable) {
          // Where patches went (loader, first-boot files), the card holds them, not the image: those
          // bytes are checked against the digests of what was written.
          const again = await openImageInput(image, ctx, inputOptions);
          const body = await verifyAgainstImage(target, again, deviceBytes, ctx).finally(() => again.close());
          const patched = await verifyWritten(target, written.patchPieces, ctx);
          outcome = { bytesChecked: body.bytesChecked, mismatches: mergeRanges([...subtractRanges(body.mismatches, loaderRanges), ...patched.mismatches]) };
        } else {
          // Image blocks under the patches were read back and re-digested with the patches laid over them.
          const all = await verifyWritten(target, [...written.pieces, ...written.patchPieces].sort((a, b) => a.start - b.start), ctx);
          outcome = { bytesChecked: all.bytesChecked, mismatches: mergeRanges([...all.mismatches, ...written.earlyMismatches]) };
        }
      } catch (error) {
        const zeroed = await zeroHead(target, null, Math.min(HEAD_BYTES, deviceBytes), ctx);
        throw new InterruptedWrite(error, zeroed);
      }
      if (outcome.mismatches.length > 0) {
        throw CardsmithError.keyed('checksum-mismatch', 'flash.readbackMismatch', { device: target.path, count: outcome.mismatches.length, bytes: outcome.mismatches.reduce((sum, r) => sum + r.end - r.start, 0), first: outcome.mismatches[0]?.start ?? 0 }, {
          device: target.path,
          ...boundedRanges(outcome.mismatches, log),
        });
      }
      verified = true;
      ctx.phase('verify', 'done', message(loaderRanges.length > 0 ? 'phase.verify.identicalWithLoader' : 'phase.verify.identical', { bytes: outcome.bytesChecked }));
    } else {
      ctx.phase('verify', 'skipped');
    }
    await target.close();
    target = null;
    if (request.eject) await card.eject(ctx);
    return { device: card.info.device, bytesWritten: written.dataBytes, verified, logFile: log.path };
  } catch (error) {
    throw reported(interruption(error, request.device), log);
  } finally {
    await target?.close().catch(() => undefined);
    await input?.close().catch(() => undefined);
    await built?.remove().catch(() => undefined);
    log.close();
  }
}

/** Unwraps an interrupted write into the error a person should read, saying what the card holds. */
function interruption(error: unknown, device: string): unknown {
  if (!(error instanceof InterruptedWrite)) return error;
  const state = message(error.headZeroed ? 'flash.headZeroed' : 'flash.headNotZeroed', { device });
  const info = toErrorInfo(error.reason);
  if (info.cause === 'cancelled') return CardsmithError.keyed('cancelled', 'flash.cancelled', {}, { device, headZeroed: error.headZeroed }, { notes: [state] });
  return CardsmithError.fromInfo({ ...info, details: { ...info.details, headZeroed: error.headZeroed } }, undefined, { notes: [state] });
}

/** The card bytes a board's loader may occupy (every layout it knows). */
function loaderSlots(board: Board): ByteRange[] {
  const writes = [...board.writes, ...board.alternativeWrites.flatMap((alt) => alt.writes)];
  return mergeRanges(writes.map((w) => ({ start: w.offsetBytes, end: w.offsetBytes + w.maxBytes })));
}

/**
 * The loader region of a card under `verify --board`. With the board's loader files at hand (the
 * request's source, or the host's Debian files) every planned write is compared byte for byte and
 * the loader region is not held to the image (a loader installed after the image differs from
 * it). When the image itself carries the board's loader, the image is the loader and its bytes are
 * compared as they are. Only without either, the loader slots are judged by their headers and
 * checksums (payload CRCs and FIT hashes included): fitting the board, or all reported.
 */
async function loaderMismatch(board: Board, request: VerifyRequest, bmapOnly: boolean, target: TargetDevice, deviceBytes: number, body: readonly ByteRange[], ctx: JobContext): Promise<ByteRange[]> {
  const open = bmapOnly ? null : (): Promise<ImageInput> => openImageInput(request.source, ctx);
  const step = await verifyLoaderStep(board, request.loaderFrom, open, deviceBytes, ctx);
  if (step?.kind === 'skip') {
    ctx.log('info', `loader region held to the image: ${english(step.reason)}`);
    return [...body];
  }
  if (step?.kind === 'write') {
    const loader = await compareLoader(step, target, deviceBytes, ctx);
    const outcome = loader.mismatches.length === 0 ? 'identical' : `differs at ${describeRanges(loader.mismatches)}`;
    ctx.log(loader.mismatches.length === 0 ? 'info' : 'warn', `loader ${describeRanges(loader.checked)} against ${step.loader.origin}: ${outcome}`);
    return mergeRanges([...subtractRanges(body, loader.checked), ...loader.mismatches]);
  }
  const inspection = await inspectDisk(target.path, cardReader(target, deviceBytes), deviceBytes);
  const found = inspection.loaders.map((l) => `${l.kind} at ${l.offset}${l.valid ? '' : ` (damaged: ${l.detail})`}`).join(', ') || 'no loader';
  const rest = subtractRanges(body, loaderSlots(board));
  if (inspection.consistentBoards.includes(board.id)) {
    ctx.log('info', `loader region fits ${board.name}: ${found}`);
    return rest;
  }
  ctx.log('warn', `loader region does not fit ${board.name}: found ${found}`);
  return mergeRanges([...rest, ...loaderSlots(board)]);
}

export async function verify(request: VerifyRequest, outer: JobContext, access: CardAccess = localCardAccess): Promise<ResultOf<'verify'>> {
  const log = JobLog.create('verify', request.device);
  const ctx = log.wrap(outer);
  ctx.log('info', `verify ${request.device} against ${request.source} (log ${log.path})`);
  let input: ImageInput | null = null;
  let target: TargetDevice | null = null;
  try {
    const board = request.board ? findBoard(request.board) : null;
    const bmapOnly = /\.bmap$/i.test(request.source);
    const bmap = bmapOnly ? await readBmapFile(request.source) : null;
    if (!bmapOnly) input = await openImageInput(request.source, ctx);
    const card = await access(request.device, { allowLoop: request.allowLoop, sourcePath: request.source });
    const deviceBytes = card.info.sizeBytes;
    target = await card.open('read', ctx);
    ctx.phase('verify', 'start');
    const outcome = bmap ? await verifyAgainstBmap(target, bmap, ctx) : await verifyAgainstImage(target, input as ImageInput, deviceBytes, ctx);
    const mismatches = board ? await loaderMismatch(board, request, bmapOnly, target, deviceBytes, outcome.mismatches, ctx) : [...outcome.mismatches];
    const ok = mismatches.length === 0;
    ctx.phase('verify', 'done', ok ? message('phase.verify.identical', { bytes: outcome.bytesChecked }) : message('phase.verify.differs', { ranges: mismatches.slice(0, 5).map((r) => `${r.start}..${r.end - 1}`).join(', '), more: Math.max(0, mismatches.length - 5) }));
    return { device: card.info.device, ok, bytesChecked: outcome.bytesChecked, ...boundedRanges(mismatches, log), logFile: log.path };
  } catch (error) {
    throw reported(error, log);
  } finally {
    await target?.close().catch(() => undefined);
    await input?.close().catch(() => undefined);
    log.close();
  }
}
