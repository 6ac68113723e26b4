/**
 * What the elevated part does to a card, and all it does: find the drive a request names by
 * device number, apply the safety rules, unmount it (to write), open it (exclusively, with
 * O_DIRECT, to write), and check on the open descriptor that it is the very whole disk that
 * passed — so no rename, symlink swap or re-plugged device between the check and the open can
 * redirect it. It reads no file, parses no image and takes no setting from its client.
 */
import type { CardGrant } from '../api';
import { deviceKeyOfFd, isPartition } from '../drives/identity';
import { checkTarget } from '../drives/safety';
import { releaseCard } from '../drives/unmount';
import { CardsmithError } from '../errors';
import { message } from '../messages';
import { openTarget } from '../flash/device';
import type { JobContext } from '../job';

/** The descriptor number the card has in the card job. */
export const CARD_FD = 3;

export interface OpenedCard {
  /** The descriptor in this process, handed to the card job. */
  readonly fd: number;
  readonly grant: CardGrant;
  /** Closes the card once the job has ended (Windows: then unlocks its volumes). */
  close(): Promise<void>;
}

export async function openCard(device: string, mode: 'write' | 'read', options: { allowLoop: boolean }, ctx: JobContext, platform = process.platform): Promise<OpenedCard> {
  // The card job runs with the user's uid (elevated/card-job.ts); Windows has none to give it.
  if (platform === 'win32') {
    throw CardsmithError.keyed('not-implemented', 'elevated.windows', { device }, { device }, { hint: message('elevated.windowsHint', { device }) });
  }
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
      fd: CARD_FD,
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
