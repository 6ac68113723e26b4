/**
 * Releasing a card before writing: every filesystem mounted from the card or any of its
 * partitions is unmounted (deepest mount point first, so nested mounts go before their parents),
 * and the kernel's mount table is read again to prove nothing is left. A write never starts
 * while anything on the card is mounted. And ejecting it afterwards, with the OS's own tool.
 */
import { readFileSync } from 'node:fs';
import { CardsmithError } from '../errors';
import type { JobContext } from '../job';
import { descendants, type BlockDevice } from './lsblk';
import { parseMountinfo } from './scan';
import type { SafeTarget } from './safety';
import { runTool, ToolError, which } from '../tools';

export interface Mount {
  readonly device: string;
  readonly mountPoint: string;
}

/** Mounts whose source is the card or one of its partitions, deepest mount point first. */
export function mountsOnTree(tree: BlockDevice, mountinfo: string): Mount[] {
  const paths = new Set(descendants(tree).map((d) => d.path));
  const majMins = new Set(descendants(tree).flatMap((d) => (d.majMin ? [d.majMin] : [])));
  return parseMountinfo(mountinfo)
    .filter((m) => paths.has(m.source) || majMins.has(m.majMin))
    .map((m) => ({ device: m.source, mountPoint: m.mountPoint }))
    .sort((a, b) => b.mountPoint.split('/').length - a.mountPoint.split('/').length);
}

async function unmountOne(mount: Mount, log: (message: string) => void): Promise<void> {
  if (which('udisksctl')) {
    try {
      await runTool('udisksctl', ['unmount', '--block-device', mount.device, '--no-user-interaction']);
      log(`unmounted ${mount.mountPoint} (${mount.device}) with udisksctl`);
      return;
    } catch (error) {
      log(`udisksctl could not unmount ${mount.mountPoint}: ${(error as Error).message.trim()}; trying umount`);
    }
  }
  try {
    await runTool('umount', [mount.mountPoint]);
    log(`unmounted ${mount.mountPoint} (${mount.device})`);
  } catch (error) {
    if (!(error instanceof ToolError) || error.failure !== 'exit') throw error;
    throw new CardsmithError('busy', `Could not unmount ${mount.mountPoint} (${mount.device}): ${error.stderr.trim() || error.message}`, { ...mount });
  }
}

/** Unmounts everything on the card (Linux) and checks the mount table again afterwards. */
export async function unmountTree(tree: BlockDevice, log: (message: string) => void): Promise<number> {
  const readMounts = (): string => readFileSync('/proc/self/mountinfo', 'utf8');
  const mounts = mountsOnTree(tree, readMounts());
  for (const mount of mounts) await unmountOne(mount, log);
  const left = mountsOnTree(tree, readMounts());
  if (left.length > 0) {
    throw new CardsmithError('busy', `${tree.path} is still mounted at ${left.map((m) => m.mountPoint).join(', ')}`, {
      device: tree.path,
      mounts: left,
    });
  }
  return mounts.length;
}

/** macOS: `diskutil unmountDisk` releases every volume of the disk at once. */
export async function unmountDiskMac(device: string, log: (message: string) => void): Promise<void> {
  try {
    await runTool('diskutil', ['unmountDisk', device]);
    log(`unmounted every volume of ${device} with diskutil`);
  } catch (error) {
    throw new CardsmithError('busy', `Could not unmount ${device}: ${(error as Error).message.trim()}`, { device });
  }
}

/** Releases everything mounted from a checked card, reporting the unmount phase. */
export async function releaseCard(target: SafeTarget, ctx: JobContext): Promise<void> {
  ctx.phase('unmount', 'start');
  const log = (message: string): void => ctx.log('info', message);
  if (target.tree) {
    const count = await unmountTree(target.tree, log);
    ctx.phase('unmount', 'done', count === 0 ? 'nothing was mounted' : `${count} mount(s) released`);
  } else if (process.platform === 'darwin') {
    await unmountDiskMac(target.drive.device, log);
    ctx.phase('unmount', 'done');
  } else {
    ctx.phase('unmount', 'skipped', `unmounting is not implemented on ${process.platform}; the exclusive open refuses a card in use`);
  }
}

/** Ejects (powers off) the card after a job; a failure is reported, never thrown. */
export async function ejectCard(device: string, ctx: JobContext): Promise<void> {
  ctx.phase('eject', 'start');
  const attempts: [string, string[]][] =
    process.platform === 'darwin' ? [['diskutil', ['eject', device]]] : [['udisksctl', ['power-off', '--block-device', device, '--no-user-interaction']], ['eject', [device]]];
  for (const [tool, args] of attempts) {
    if (!which(tool)) continue;
    try {
      await runTool(tool, args);
      ctx.phase('eject', 'done', `${tool} ${args.join(' ')}`);
      return;
    } catch (error) {
      ctx.log('warn', `${tool} could not eject ${device}: ${(error as Error).message.trim()}`);
    }
  }
  ctx.phase('eject', 'skipped', 'no eject tool succeeded; remove the card when its light stops');
}
