/**
 * One card's part of a flash, shared by `flash` and `flashMany`: open the checked card, write the
 * image (its first MiB last) with the loader and first-boot patches, read it back, eject. The
 * caller has opened the image, planned the write and prepared the loader step; on any failure the
 * writer has left the card's first MiB zeroed (InterruptedWrite), which `interruption` words.
 */
import { MAX_REPORTED_RANGES } from '../api';
import { CardsmithError, toErrorInfo } from '../errors';
import { message } from '../messages';
import type { JobContext } from '../job';
import type { ReadAt } from '../disk/read-layout';
import { firstBootPatches, type FirstBootPlan } from '../customise/firstboot/flash-step';
import { loaderPatches, type LoaderStep } from './board-loader';
import type { CheckedCard } from './card';
import type { TargetDevice } from './device';
import { DEFAULT_HOLE_POLICY, type HolePolicy } from './holes';
import type { ImageInput } from './image-input';
import type { JobLog } from './log';
import { HEAD_BYTES, mergeRanges, subtractRanges, type ByteRange, type WritePlan } from './plan';
import { verifyAgainstImage, verifyWritten, type VerifyOutcome } from './verify';
import { InterruptedWrite, writeImage, zeroHead } from './write';
import { deviceZeroOut } from './zero-out';

export interface CardWrite {
  readonly card: CheckedCard;
  /** The image, read once; closed here as soon as the body is written. */
  readonly input: ImageInput;
  /** The image again from its start, for a readback compared with the file itself. */
  readonly reopen: () => Promise<ImageInput>;
  readonly plan: WritePlan;
  readonly step: LoaderStep;
  readonly firstBoot: FirstBootPlan | null;
  readonly verify: boolean;
  readonly holes: HolePolicy | undefined;
  readonly eject: boolean;
  /** Waits for a turn to read the card back (flashMany bounds how many readbacks run at once); returns the release. */
  readonly readbackTurn?: () => Promise<() => void>;
}

export interface CardWritten {
  readonly device: string;
  readonly bytesWritten: number;
  readonly verified: boolean;
  readonly logFile: string;
}

/** The error a person sees, with the log file named. */
export function reported(error: unknown, log: JobLog): CardsmithError {
  const info = toErrorInfo(error);
  const out = CardsmithError.fromInfo(info);
  out.info.logFile = log.path;
  log.line('error', `${info.cause}: ${info.message} ${JSON.stringify(info.details ?? {})}`);
  return out;
}

/** Unwraps an interrupted write into the error a person should read, saying what the card holds. */
export function interruption(error: unknown, device: string): unknown {
  if (!(error instanceof InterruptedWrite)) return error;
  const state = message(error.headZeroed ? 'flash.headZeroed' : 'flash.headNotZeroed', { device });
  const info = toErrorInfo(error.reason);
  if (info.cause === 'cancelled') return CardsmithError.keyed('cancelled', 'flash.cancelled', {}, { device, headZeroed: error.headZeroed }, { notes: [state] });
  return CardsmithError.fromInfo({ ...info, details: { ...info.details, headZeroed: error.headZeroed } }, undefined, { notes: [state] });
}

export function describeRanges(ranges: readonly ByteRange[]): string {
  const shown = ranges.slice(0, 5).map((r) => `${r.start}..${r.end - 1}`);
  return `bytes ${shown.join(', ')}${ranges.length > 5 ? ` and ${ranges.length - 5} more ranges` : ''}`;
}

/** The first ranges for a result or error (the log gets every one), with their count and bytes. */
export function boundedRanges(ranges: readonly ByteRange[], log: JobLog): { mismatches: ByteRange[]; mismatchCount: number; mismatchBytes: number } {
  for (const range of ranges) log.line('info', `mismatch ${range.start}..${range.end - 1}`);
  return {
    mismatches: ranges.slice(0, MAX_REPORTED_RANGES),
    mismatchCount: ranges.length,
    mismatchBytes: ranges.reduce((sum, r) => sum + r.end - r.start, 0),
  };
}

export async function writeCard(job: CardWrite, ctx: JobContext, log: JobLog): Promise<CardWritten> {
  const { card, input, plan, step, firstBoot } = job;
  const deviceBytes = card.info.sizeBytes;
  let target: TargetDevice | null = null;
  let closed = false;
  let turn: (() => void) | null = null;
  try {
    target = await card.open('write', ctx);
    ctx.log('debug', `opened ${target.path} exclusively${target.direct ? ' with O_DIRECT' : ''}, block size ${target.blockSize}`);

    ctx.phase('write', 'start');
    // One source pass: what goes to the card is digested as it is written, and the readback
    // compares the card with those digests, so no URL is fetched and no codec decoded twice. A local
    // raw file is the exception: the readback compares the card with the file itself, byte for
    // byte (a re-read from the page cache is several times faster than hashing), unless holes the
    // bmap leaves out are promised zero, which only the digests cover.
    const holes = job.holes ?? DEFAULT_HOLE_POLICY;
    const rereadable = input.rereadable && (input.bmap === null || holes === 'skip');
    const written = await writeImage(input, target, plan, ctx, {
      recordDigests: job.verify && !rereadable,
      deviceBytes,
      holes,
      zeroOut: deviceZeroOut(target.path, (m) => ctx.log('warn', m)),
      ...(step.kind === 'write' || firstBoot
        ? {
            patches: async (read: ReadAt) => [
              ...(step.kind === 'write' ? await loaderPatches(step, read, deviceBytes, ctx) : []),
              ...(firstBoot ? await firstBootPatches(firstBoot, read, input.sizeBytes ?? deviceBytes, ctx) : []),
            ],
          }
        : {}),
    });
    ctx.phase('write', 'done', message('phase.write.done', { dataBytes: written.dataBytes, imageBytes: written.imageBytes, zeroedOut: written.zeroedOutBytes, unwritten: written.unwrittenZeroBytes, skipped: written.skippedHoleBytes }));
    const loaderRanges = mergeRanges(written.patchPieces.map((p) => ({ start: p.start, end: p.start + p.length })));
    if (step.kind === 'write') ctx.phase('bootloader', 'done', message('phase.bootloader.written', { ranges: loaderRanges.map((r) => `${r.start}..${r.end - 1}`).join(', '), origin: step.loader.origin }));
    else ctx.phase('bootloader', 'skipped', step.reason);
    await input.close();
    closed = true;

    let verified = false;
    if (job.verify && job.readbackTurn) turn = await job.readbackTurn();
    if (job.verify) {
      ctx.phase('verify', 'start');
      let outcome: VerifyOutcome;
      try {
        if (rereadable) {
          // Where patches went (loader, first-boot files), the card holds them, not the image: those
          // bytes are checked against the digests of what was written.
          const again = await job.reopen();
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
    turn?.();
    turn = null;
    await target.close();
    target = null;
    if (job.eject) await card.eject(ctx);
    return { device: card.info.device, bytesWritten: written.dataBytes, verified, logFile: log.path };
  } finally {
    turn?.();
    await target?.close().catch(() => undefined);
    if (!closed) await input.close().catch(() => undefined);
  }
}
