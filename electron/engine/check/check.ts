/**
 * The card check operation: identity, real-capacity probe, speed, verdict. Destroys the card's
 * contents; on return the probed blocks and the speed-test region are zeros.
 */
import { randomBytes } from 'node:crypto';
import type { Request } from '../api';
import { CardsmithError, toErrorInfo } from '../errors';
import type { JobContext } from '../job';
import { alignedBuffers } from '../flash/aligned';
import { localCardAccess, type CardAccess } from '../flash/card';
import type { TargetDevice } from '../flash/device';
import { JobLog } from '../flash/log';
import { PROBE_BLOCK } from './blocks';
import { readIdentity } from './identity';
import type { CapacityProbe, CardCheck, Speed } from './model';
import { probeCapacity, probedRanges, probeLayout, type ProbeLayout } from './probe';
import { rememberCheck } from './remember';
import { DEFAULT_LIMITS, measureSpeed, speedMessage } from './speed';
import { message } from '../messages';

type CheckRequest = Extract<Request, { op: 'check' }>;

const CHUNK = 4 << 20;
const SEQUENTIAL_MAX = 64 << 20;
const MiB = 1 << 20;

/** The verdict and the sentence a person reads (pure). */
export function verdictOf(capacity: CapacityProbe, speed: Speed | undefined): Pick<CardCheck, 'verdict' | 'summary'> {
  const real = `${(capacity.realBytes / MiB).toFixed(1)} MiB`;
  const claimed = `${(capacity.claimedBytes / MiB).toFixed(1)} MiB`;
  const fakeKinds = capacity.failures.length > 0 && capacity.failures.every((k) => k === 'wrap-around' || k === 'lost-writes');
  if (fakeKinds) {
    const how = capacity.failures.includes('wrap-around') ? 'addresses past it wrap around onto the start' : 'writes past it are lost';
    return { verdict: 'fake-capacity', summary: `Fake capacity: claims ${claimed} but holds ${real} (real size ${capacity.realBytes} bytes); ${how}.` };
  }
  if (capacity.failures.length > 0) {
    const first = capacity.badBlocks[0];
    return {
      verdict: 'failing',
      summary: `Failing: ${capacity.failures.join(', ')} from byte ${first?.offset ?? capacity.realBytes} (${capacity.badBlockCount} bad probe blocks); good up to byte ${capacity.realBytes}.`,
    };
  }
  if (speed?.tooSlow) return { verdict: 'too-slow', summary: `Holds all ${claimed}, but ${speed.summary}.` };
  return { verdict: 'good', summary: `Good: holds all ${claimed}${speed ? `; ${speed.summary}` : ''}.` };
}

async function zeroBlocks(target: TargetDevice, layout: ProbeLayout, extra: readonly number[], from: number, buffer: Uint8Array, ctx: JobContext): Promise<void> {
  buffer.fill(0);
  for (const range of probedRanges(layout, extra)) {
    for (let at = Math.max(range.start, from); at < range.end; at += CHUNK) {
      const length = Math.min(CHUNK, range.end - at);
      try {
        await target.write(buffer.subarray(0, length), at);
      } catch (error) {
        ctx.log('warn', `could not zero the probe block at byte ${at}: ${toErrorInfo(error).message}`);
      }
    }
  }
  await target.sync();
}

export async function checkCard(request: CheckRequest, outer: JobContext, access: CardAccess = localCardAccess): Promise<CardCheck> {
  const log = JobLog.create('check', request.device);
  const ctx = log.wrap(outer);
  const started = performance.now();
  let target: TargetDevice | null = null;
  /** Set once the probe may have written: what to zero if the check ends early. */
  let cleanup: ((ctx: JobContext) => Promise<void>) | null = null;
  try {
    const card = await access(request.device, { allowLoop: request.allowLoop });
    const claimedBytes = card.info.sizeBytes;
    if (claimedBytes < 16 * PROBE_BLOCK) throw CardsmithError.keyed('bad-input', 'check.tooSmall', { device: card.info.device, bytes: claimedBytes }, { device: card.info.device });
    const identity = readIdentity(card.info.key, claimedBytes);
    ctx.log('info', `check ${card.info.device}: ${card.info.description}, ${claimedBytes} bytes, identity ${identity.key} (log ${log.path})`);
    target = await card.open('write', ctx);
    if (!target.direct) ctx.log('warn', `${target.path} is not opened with O_DIRECT: reads may come from the page cache`);
    const [buffer] = alignedBuffers(1, CHUNK + 64 * 1024) as [Buffer];
    const layout = probeLayout(claimedBytes);
    const opened = target;
    cleanup = (c) => zeroBlocks(opened, layout, [], 0, buffer, c);

    ctx.phase('probe', 'start', message('phase.probe.plan', { dense: layout.denseBytes / PROBE_BLOCK, grid: layout.grid.length }));
    const probeBytes = 2 * (layout.denseBytes + layout.grid.length * PROBE_BLOCK);
    const probeProgress = ctx.progress('probe', probeBytes);
    let moved = 0;
    const nonceBytes = randomBytes(8);
    const device = target;
    const run = await probeCapacity({
      device,
      buffer,
      chunkBytes: CHUNK,
      nonce: { hi: nonceBytes.readUInt32BE(0), lo: nonceBytes.readUInt32BE(4) },
      claimedBytes,
      onBytes: (n) => probeProgress.update((moved += n)),
      throwIfCancelled: () => ctx.throwIfCancelled(),
      log: (m) => ctx.log('info', m),
    }, layout);
    probeProgress.finish();
    const capacity = run.result;
    for (const bad of capacity.badBlocks) ctx.log('info', `bad block at byte ${bad.offset}: ${bad.kind}${bad.detail ? ` (${bad.detail})` : ''}`);
    ctx.phase('probe', 'done', capacity.failures.length ? message('phase.probe.failing', { realBytes: capacity.realBytes, claimedBytes, failures: capacity.failures.join(', ') }) : message('phase.probe.done', { realBytes: capacity.realBytes, claimedBytes }));

    // Speed is measured below the first bad byte only, where the card holds what it is given.
    const goodBytes = Math.min(capacity.realBytes, capacity.badBlocks[0]?.offset ?? capacity.realBytes);
    // A quarter of it, 64 MiB at most: long enough to pass a card's write cache, short on a small
    // card. A card already found bad is timed briefly: its verdict is settled, the speed is a footnote.
    const bad = capacity.failures.length > 0;
    const sequentialBytes = Math.floor(Math.min(bad ? SEQUENTIAL_MAX / 4 : SEQUENTIAL_MAX, goodBytes / 4) / MiB) * MiB;
    const limits = bad ? { maxOps: DEFAULT_LIMITS.maxOps / 4, maxMs: DEFAULT_LIMITS.maxMs / 4 } : DEFAULT_LIMITS;
    let speed: Speed | undefined;
    if (request.speed && sequentialBytes >= MiB) {
      ctx.phase('speed', 'start');
      const speedProgress = ctx.progress('speed', 2 * sequentialBytes + 2 * limits.maxOps * 4096);
      let done = 0;
      speed = await measureSpeed({
        device,
        buffer,
        chunkBytes: CHUNK,
        sequentialBytes,
        goodBytes,
        limits,
        onBytes: (n) => speedProgress.update((done += n)),
        throwIfCancelled: () => ctx.throwIfCancelled(),
      });
      speedProgress.finish();
      ctx.phase('speed', 'done', speedMessage(speed));
    } else {
      ctx.phase('speed', 'skipped', message(request.speed ? 'phase.speed.noRegion' : 'phase.speed.notAsked'));
    }
    cleanup = null;
    await zeroBlocks(device, layout, run.extraBlocks, speed ? sequentialBytes : 0, buffer, ctx);
    await target.close();
    target = null;
    const check: CardCheck = {
      device: card.info.device,
      ...verdictOf(capacity, speed),
      capacity,
      ...(speed ? { speed } : {}),
      identity,
      checkedAt: new Date().toISOString(),
      seconds: (performance.now() - started) / 1000,
      logFile: log.path,
    };
    ctx.log('info', check.summary);
    await rememberCheck(check).catch((error: unknown) => ctx.log('warn', `could not remember the check: ${toErrorInfo(error).message}`));
    return check;
  } catch (error) {
    const info = toErrorInfo(error);
    // Cancelled or failed mid-way: the signed blocks are zeroed still, unless the card is gone.
    if (cleanup && info.cause !== 'device-gone') await cleanup(ctx).catch(() => undefined);
    log.line('error', `${info.cause}: ${info.message} ${JSON.stringify(info.details ?? {})}`);
    throw CardsmithError.fromInfo(info);
  } finally {
    await target?.close().catch(() => undefined);
    log.close();
  }
}
