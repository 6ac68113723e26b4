/**
 * What the elevated part does to a card, and all it does: find the drive a request names by
 * device number, apply the safety rules, unmount it (to write), open it (exclusively, with
 * O_DIRECT, to write), and check on the open descriptor that it is the very whole disk that
 * passed — so no rename, symlink swap or re-plugged device between the check and the open can
 * redirect it. It reads no file, parses no image and takes no setting from its client.
 * The opened card then goes to a card job by descriptor (card-job.ts), or is served as raw bytes
 * where no job can be started as the user (Windows: byte-handover.ts).
 */
import type { CardGrant } from '../api';
import { deviceKeyOfFd, isPartition } from '../drives/identity';
import { checkTarget } from '../drives/safety';
import { releaseCard } from '../drives/unmount';
import { CardsmithError, toErrorInfo } from '../errors';
import { message } from '../messages';
import { openTarget } from '../flash/device';
import type { JobContext } from '../job';

/** The descriptor number the (first) card has in the card job. */
export const CARD_FD = 3;

export interface OpenedCard {
  /** The descriptor in this process, handed to the card job. */
  readonly fd: number;
  readonly grant: CardGrant;
  /** Closes the card once the job has ended (Windows: then unlocks its volumes). */
  close(): Promise<void>;
}

export async function openCard(device: string, mode: 'write' | 'read', options: { allowLoop: boolean; childFd?: number }, ctx: JobContext): Promise<OpenedCard> {
  const safe = await checkTarget(device, { allowLoop: options.allowLoop });
  if (mode === 'write') await releaseCard(safe, ctx);
  const target = await openTarget(safe.drive.device, { mode, log: (m) => ctx.log('warn', m) });
  if (process.platform === 'linux' || process.platform === 'darwin') {
    const opened = deviceKeyOfFd(target.fd);
    if (opened !== safe.key || isPartition(opened)) {
      await target.close();
      throw CardsmithError.keyed('unsafe-target', 'elevated.changed', { device, opened: opened ?? 'no block device', checked: safe.key }, {
        device,
      });
    }
  }
  return {
    fd: target.fd,
    close: () => target.close(),
    grant: {
      fd: options.childFd ?? CARD_FD,
      device: safe.drive.device,
      key: safe.key,
      sizeBytes: safe.drive.sizeBytes as number,
      description: safe.drive.description,
      warnings: [...safe.drive.warnings],
      writable: mode === 'write',
      direct: target.direct,
      blockSize: target.blockSize,
    },
  };
}

/**
 * The cards of a request that names several (flashMany): every one is checked against the safety
 * rules before any is unmounted or opened, so one refused device refuses them all untouched. Card
 * i becomes descriptor CARD_FD + i in the job.
 */
export async function openCards(devices: readonly string[], mode: 'write' | 'read', options: { allowLoop: boolean }, ctx: JobContext): Promise<OpenedCard[]> {
  for (const device of devices) {
    try {
      await checkTarget(device, { allowLoop: options.allowLoop });
    } catch (error) {
      const info = toErrorInfo(error);
      throw CardsmithError.fromInfo({ ...info, details: { ...info.details, device } }, undefined, { notes: [message('elevated.noCardOpened', { device })] });
    }
  }
  const opened: OpenedCard[] = [];
  try {
    for (const [index, device] of devices.entries()) opened.push(await openCard(device, mode, { ...options, childFd: CARD_FD + index }, ctx));
  } catch (error) {
    await Promise.allSettled(opened.map((card) => card.close()));
    throw error;
  }
  return opened;
}
