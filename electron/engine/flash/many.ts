/**
 * flashMany: one image onto several cards in one job. Every card is checked against the safety
 * rules first, and one unsafe card refuses the whole request before anything is written. The
 * image is then opened once and fanned out (fan-out.ts) to one writer per card; each card keeps
 * its own plan, loader writes, first-MiB-last order, readback, log file and outcome, and a card
 * that fails (too small, I/O error, gone, mismatch) ends alone with its first MiB zeroed while the
 * others finish. Events about one card carry `card: <device>`.
 */
import type { CardOutcome, JobEvent, Request, ResultOf } from '../api';
import { findBoard } from '../boards/db';
import { message } from '../messages';
import { CardsmithError, toErrorInfo } from '../errors';
import { createJobContext, type JobContext } from '../job';
import { assertCapacity } from '../check/remember';
import { prepareLoader, type LoaderStep } from './board-loader';
import { localCardAccess, type CardAccess, type CheckedCard } from './card';
import { interruption, reported, writeCard } from './card-flash';
import { FanOut } from './fan-out';
import { bmapRanges, openImageInput, refuseSmallCard, type ImageInput } from './image-input';
import { JobLog } from './log';
import { planWrite, type WritePlan } from './plan';

type FlashManyRequest = Extract<Request, { op: 'flashMany' }>;

/**
 * Cards read back at once. A readback holds 16 MiB of buffers, so memory stays bounded whatever the
 * number of cards; four keep a 2-core host busy (and a USB hub's bandwidth is shared anyway).
 */
export const READBACKS_AT_ONCE = 4;

/** Turns for at most `limit` holders at a time, in the order asked. */
function turns(limit: number): () => Promise<() => void> {
  let free = limit;
  const waiting: (() => void)[] = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else free += 1;
  };
  return async () => {
    if (free > 0) free -= 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    let given = false;
    return () => {
      if (!given) release();
      given = true;
    };
  };
}

/** The job's context for one card: its events tagged with the card and recorded in its log. */
function cardContext(outer: JobContext, device: string, log: JobLog): JobContext {
  const tagged = createJobContext((event: JobEvent) => {
    outer.emit(event.type === 'phase' || event.type === 'progress' || event.type === 'log' ? { ...event, card: device } : event);
  }, outer.signal);
  return log.wrap(tagged);
}

interface Prepared {
  readonly card: CheckedCard;
  readonly plan: WritePlan;
  readonly step: LoaderStep;
}

function failed(device: string, error: unknown, log: JobLog): CardOutcome {
  return { device, ok: false, bytesWritten: 0, verified: false, error: reported(interruption(error, device), log).info, logFile: log.path };
}

export async function flashMany(request: FlashManyRequest, outer: JobContext, access: CardAccess = localCardAccess): Promise<ResultOf<'flashMany'>> {
  // Every card passes the safety rules, or none is touched.
  const cards: CheckedCard[] = [];
  for (const device of request.devices) {
    try {
      cards.push(await access(device, { allowLoop: request.allowLoop, sourcePath: request.source }));
    } catch (error) {
      const info = toErrorInfo(error);
      throw CardsmithError.fromInfo({ ...info, details: { ...info.details, device } }, undefined, { notes: [message('flash.noCardWritten', { device })] });
    }
  }
  const keys = new Set(cards.map((c) => c.info.key));
  if (keys.size !== cards.length) throw CardsmithError.keyed('bad-input', 'flash.sameCardTwice', {}, { devices: request.devices });
  outer.throwIfCancelled();

  const inputOptions = { bmapPath: request.bmap };
  const reopen = (): Promise<ImageInput> => openImageInput(request.source, outer, inputOptions);
  const source = await reopen();
  outer.log('info', `flash ${request.source} (${source.compression}, ${source.sizeBytes ?? 'unknown'} bytes) to ${cards.length} cards, read once`);
  const board = request.board === undefined ? null : findBoard(request.board);
  const steps = new Map<number, Promise<LoaderStep>>();
  const logs = new Map<string, JobLog>();
  const outcomes = new Map<string, CardOutcome>();
  const ready: { prepared: Prepared; ctx: JobContext; log: JobLog }[] = [];
  let fan: FanOut | null = null;
  try {
    for (const card of cards) {
      const device = card.info.device;
      const log = JobLog.create('flash', device);
      logs.set(device, log);
      const ctx = cardContext(outer, device, log);
      ctx.log('info', `flash ${request.source} → ${device}, one of ${cards.length} cards (verify ${request.verify}, log ${log.path})`);
      try {
        const deviceBytes = card.info.sizeBytes;
        refuseSmallCard(source, deviceBytes, device);
        await assertCapacity(card.info, source.sizeBytes);
        const plan = planWrite({ deviceBytes, imageBytes: source.sizeBytes, mapped: source.bmap ? bmapRanges(source.bmap) : null });
        ctx.log('info', `target ${device}: ${card.info.description}, ${deviceBytes} bytes; ${plan.dataBytes ?? 'unknown'} data bytes to write`);
        for (const warning of card.info.warnings) ctx.log('warn', warning);
        // Cards of one size share the loader plan (it depends on the image and the card's size).
        if (board && !steps.has(deviceBytes)) steps.set(deviceBytes, prepareLoader(board, request.loaderFrom, reopen, deviceBytes, ctx));
        const step = board ? await (steps.get(deviceBytes) as Promise<LoaderStep>) : ({ kind: 'skip', reason: message('phase.bootloader.noBoard') } as const);
        ready.push({ prepared: { card, plan, step }, ctx, log });
      } catch (error) {
        outcomes.set(device, failed(device, error, log));
      }
    }
    outer.throwIfCancelled();

    const shared = new FanOut(source, reopen);
    const readbackTurn = turns(READBACKS_AT_ONCE);
    fan = shared;
    await Promise.all(
      ready.map(async ({ prepared, ctx, log }) => {
        const device = prepared.card.info.device;
        const input = shared.tap((bytes) => ctx.log('info', `${device} fell a window behind the other cards at image byte ${bytes}; it reads the image on its own from there`));
        try {
          const done = await writeCard({ ...prepared, input, reopen, firstBoot: null, verify: request.verify, holes: request.holes, eject: request.eject, readbackTurn }, ctx, log);
          outcomes.set(device, { device, ok: true, bytesWritten: done.bytesWritten, verified: done.verified, error: null, logFile: log.path });
        } catch (error) {
          outcomes.set(device, failed(device, error, log));
        }
      }),
    );
  } finally {
    // With no card to write, no tap ever closed the source.
    if (!fan || ready.length === 0) await source.close().catch(() => undefined);
    for (const log of logs.values()) log.close();
  }
  const list = cards.map((c) => outcomes.get(c.info.device) as CardOutcome);
  const good = list.filter((o) => o.ok).length;
  if (outer.signal.aborted && good < list.length) {
    const stopped = list.filter((o) => !o.ok).map((o) => o.device);
    throw CardsmithError.keyed('cancelled', 'flash.cancelledMany', { devices: stopped.join(', ') }, {
      written: list.filter((o) => o.ok).map((o) => o.device),
      stopped,
    });
  }
  outer.log(good === list.length ? 'info' : 'warn', `${good} of ${list.length} cards written${good === list.length ? '' : `; failed: ${list.filter((o) => !o.ok).map((o) => o.device).join(', ')}`}`);
  return { cards: list };
}
