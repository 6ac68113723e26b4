/**
 * How an operation reaches the card. Two ways, one interface:
 * - local: this process checks the drive against the safety rules, unmounts it and opens it
 *   (the CLI run with sudo, the development bridge, tests);
 * - granted: the elevated part did all of that and handed over the open descriptor; this
 *   process runs with the user's rights and can open nothing else of the card's, so it only
 *   re-reads what the descriptor is and refuses a card that holds the job's own source.
 * Either way the card is known by its device number ("major:minor"), not by a path string.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cardsOf, type CardGrant, type Request } from '../api';
import { blockDeviceKey, deviceKeyOfFd, deviceKeyOfPath, holderKey } from '../drives/identity';
import { checkTarget } from '../drives/safety';
import { ejectCard, releaseCard } from '../drives/unmount';
import { CardsmithError } from '../errors';
import type { JobContext } from '../job';
import { deviceOnFd, openTarget, type TargetDevice } from './device';

export interface CardInfo {
  /** The device's canonical path (for messages and logs). */
  readonly device: string;
  /** "major:minor" (Linux), else the canonical path. */
  readonly key: string;
  readonly sizeBytes: number;
  readonly description: string;
  readonly warnings: readonly string[];
}

export interface CheckedCard {
  readonly info: CardInfo;
  /** Releases the card (unmounts it) when writing, and opens it: exclusively to write, shared to read. */
  open(mode: 'write' | 'read', ctx: JobContext): Promise<TargetDevice>;
  /** Ejects the card after a job that wrote it. */
  eject(ctx: JobContext): Promise<void>;
}

export interface CheckOptions {
  readonly allowLoop: boolean;
  /** The image or tree the job reads: the card holding it is refused. */
  readonly sourcePath?: string;
}

/** Finds the card a request names and applies the safety rules, touching nothing. */
export type CardAccess = (device: string, options: CheckOptions) => Promise<CheckedCard>;

export const localCardAccess: CardAccess = async (device, options) => {
  const safe = await checkTarget(device, options);
  const info: CardInfo = {
    device: safe.drive.device,
    key: safe.key,
    sizeBytes: safe.drive.sizeBytes as number,
    description: safe.drive.description,
    warnings: safe.drive.warnings,
  };
  return {
    info,
    async open(mode, ctx) {
      if (mode === 'write') await releaseCard(safe, ctx);
      const target = await openTarget(info.device, { mode, log: (m) => ctx.log('warn', m) });
      // The path could have been re-pointed between the check and the open: the descriptor decides.
      if (process.platform === 'linux' && deviceKeyOfFd(target.fd) !== info.key) {
        await target.close();
        throw CardsmithError.keyed('unsafe-target', 'flash.cardChanged', { device }, { device });
      }
      return target;
    },
    eject: (ctx) => ejectCard(info.device, ctx),
  };
};

/** The "major:minor" of every partition of a whole disk, from sysfs. */
function partitionKeys(key: string): string[] {
  try {
    const disk = realpathSync(`/sys/dev/block/${key}`);
    return readdirSync(disk)
      .filter((name) => statSync(join(disk, name, 'partition'), { throwIfNoEntry: false }) !== undefined)
      .map((name) => readFileSync(join(disk, name, 'dev'), 'utf8').trim());
  } catch {
    return [];
  }
}

/** True when `path` is the card or lies on a filesystem of the card or one of its partitions. */
export function isOnCard(path: string, key: string): boolean {
  const stats = statSync(path, { bigint: true, throwIfNoEntry: false });
  if (!stats) return false;
  const onCard = new Set([key, ...partitionKeys(key)]);
  return onCard.has(blockDeviceKey(stats) ?? holderKey(stats));
}

/**
 * Refuses a job whose source (image, rootfs) lies on the card it would write, by device number —
 * run unprivileged by whoever asks the elevated part (before the card is unmounted) and again in
 * the card job.
 */
export function refuseOwnSource(device: string, key: string, sourcePath: string | undefined): void {
  if (sourcePath === undefined || !isOnCard(sourcePath, key)) return;
  throw CardsmithError.keyed('unsafe-target', 'flash.sourceOnCard', { source: sourcePath, device }, { device, source: sourcePath });
}

/** The same refusal for a request, before it is sent to the elevated part (Linux: by device number). */
export function refuseSourceOnCard(request: Request): void {
  const source = request.op === 'flash' ? (request.source ?? request.build?.rootfs) : request.op === 'verify' || request.op === 'flashMany' ? request.source : undefined;
  if (source === undefined || process.platform !== 'linux') return;
  for (const device of cardsOf(request)) {
    let key: string;
    try {
      key = deviceKeyOfPath(device);
    } catch {
      continue; // not a device: the elevated part says so
    }
    refuseOwnSource(device, key, source);
  }
}

/** The cards the elevated part opened and handed over: `grants[i]` (as `grants[i].fd`) is the request's card `devices[i]`. */
export function grantedCardAccess(grants: readonly CardGrant[], devices: readonly string[]): CardAccess {
  return async (device, options) => {
    const grant = grants[devices.indexOf(device)];
    if (grants.length !== devices.length || !grant) throw new CardsmithError('internal', `No card was handed over for ${device}`, { device });
    const key = deviceKeyOfFd(grant.fd);
    if (key !== grant.key) {
      throw new CardsmithError('internal', `The card handed over as descriptor ${grant.fd} is ${key ?? 'not a block device'}, not ${grant.key}`, { device });
    }
    refuseOwnSource(grant.device, key, options.sourcePath);
    const info: CardInfo = { device: grant.device, key, sizeBytes: grant.sizeBytes, description: grant.description, warnings: grant.warnings };
    return {
      info,
      async open(mode) {
        if (mode === 'write' && !grant.writable) throw new CardsmithError('internal', `${grant.device} was handed over read-only`, { device });
        return deviceOnFd(grant.fd, grant.device, grant.direct, grant.blockSize);
      },
      // The elevated part ejects once this job has ended and closed the card.
      eject: async () => undefined,
    };
  };
}
