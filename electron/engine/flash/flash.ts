/**
 * The flash and verify operations, end to end: open the image, re-check the target's safety in
 * this (privileged) process, refuse a card that is too small before touching it, unmount, open
 * exclusively, write, fsync, read back, eject. Every step goes to the job's log file; every
 * failure leaves as a classified error that names the log file.
 */
import type { Request, ResultOf } from '../api';
import { findBoard } from '../boards/db';
import { inspectDisk } from '../boards/inspect';
import type { Board } from '../boards/model';
import { CardsmithError } from '../errors';
import type { JobContext } from '../job';
import { localCardAccess, type CardAccess } from './card';
import type { TargetDevice } from './device';
import { bmapRanges, openImageInput, readBmapFile, refuseSmallCard, type ImageInput } from './image-input';
import { JobLog } from './log';
import { mergeRanges, planWrite, subtractRanges, type ByteRange } from './plan';
import { verifyAgainstBmap, verifyAgainstImage } from './verify';
import { compareLoader, prepareLoader, verifyLoaderStep, type LoaderStep } from './board-loader';
import { cardReader } from './patch';
import { buildForCard, type BuiltImage } from './built-image';
import { assertCapacity } from '../check/remember';
import { prepareFirstBoot } from '../customise/firstboot/flash-step';
import { boundedRanges, describeRanges, interruption, reported, writeCard } from './card-flash';
import { english, message } from '../messages';

type FlashRequest = Extract<Request, { op: 'flash' }>;
type FlashBuild = NonNullable<FlashRequest['build']>;
type VerifyRequest = Extract<Request, { op: 'verify' }>;

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

    // The card step owns the input from here (it closes it once the body is written).
    const owned = input;
    input = null;
    return await writeCard({ card, input: owned, reopen: () => openImageInput(image, ctx, inputOptions), plan, step, firstBoot, verify: request.verify, holes: request.holes, eject: request.eject }, ctx, log);
  } catch (error) {
    throw reported(interruption(error, request.device), log);
  } finally {
    await input?.close().catch(() => undefined);
    await built?.remove().catch(() => undefined);
    log.close();
  }
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
