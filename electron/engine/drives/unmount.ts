/**
 * Releasing a card before writing, as its OS's plan says (flash/platform/plan.ts). On Linux
 * every filesystem mounted from the card or any of its partitions is unmounted (deepest mount
 * point first, so nested mounts go before their parents), and the kernel's mount table is read
 * again to prove nothing is left; on macOS `diskutil unmountDisk`; on Windows the volumes are
 * locked when the card is opened. A write never starts while anything on the card is mounted.
 * And ejecting it afterwards, with the OS's own tool.
 */
import { readFileSync } from 'node:fs';
import { CardsmithError } from '../errors';
import { cardOs, staticCardPlan } from '../flash/platform/plan';
import type { JobContext } from '../job';
import { descendants, type BlockDevice } from './lsblk';
import { parseMountinfo } from './scan';
import type { SafeTarget } from './safety';
import { runTool, ToolError, which } from '../tools';
import { message } from '../messages';

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
    throw CardsmithError.keyed('busy', 'unmount.failed', { mountPoint: mount.mountPoint, device: mount.device, said: error.stderr.trim() || error.message }, { ...mount });
  }
}

/** Unmounts everything on the card (Linux) and checks the mount table again afterwards. */
export async function unmountTree(tree: BlockDevice, log: (message: string) => void): Promise<number> {
  const readMounts = (): string => readFileSync('/proc/self/mountinfo', 'utf8');
  const mounts = mountsOnTree(tree, readMounts());
  for (const mount of mounts) await unmountOne(mount, log);
  const left = mountsOnTree(tree, readMounts());
  if (left.length > 0) {
    throw CardsmithError.keyed('busy', 'unmount.stillMounted', { device: tree.path, mounts: left.map((m) => m.mountPoint).join(', ') }, {
      device: tree.path,
      mounts: left,
    });
  }
  return mounts.length;
}

/** Runs a system tool a plan names; a failure is a CardsmithError (busy) carrying its stderr. */
async function runStep(argv: readonly string[], device: string): Promise<void> {
  const [tool = '', ...args] = argv;
  try {
    await runTool(tool, args);
  } catch (error) {
    if (!(error instanceof ToolError) || error.failure !== 'exit') throw error;
    throw CardsmithError.keyed('busy', 'unmount.releaseFailed', { device, command: argv.join(' '), said: error.stderr.trim() || error.message }, { device, command: argv.join(' ') });
  }
}

/** Releases everything mounted from a checked card, reporting the unmount phase. */
export async function releaseCard(target: SafeTarget, ctx: JobContext): Promise<void> {
  ctx.phase('unmount', 'start');
  const log = (message: string): void => ctx.log('info', message);
  const steps = staticCardPlan(cardOs(), target.drive.device, 'write').release;
  if (steps.length === 0) return ctx.phase('unmount', 'done', message('phase.unmount.locked'));
  let released = 0;
  for (const step of steps) {
    if (step.call === 'unmount-mounts') {
      if (!target.tree) throw new CardsmithError('internal', `No partition tree for ${target.drive.device}`, { device: target.drive.device });
      released += await unmountTree(target.tree, log);
    } else if (step.call === 'run') {
      await runStep(step.argv, target.drive.device);
      log(`${step.argv.join(' ')}: released every volume of ${target.drive.device}`);
    }
  }
  ctx.phase('unmount', 'done', steps.some((s) => s.call === 'unmount-mounts') ? message('phase.unmount.released', { count: released }) : undefined);
}

/** Ejects (powers off) the card after a job; a failure is reported, never thrown. */
export async function ejectCard(device: string, ctx: JobContext): Promise<void> {
  ctx.phase('eject', 'start');
  for (const [tool = '', ...args] of staticCardPlan(cardOs(), device, 'write').eject) {
    if (!which(tool)) continue;
    try {
      await runTool(tool, args);
      ctx.phase('eject', 'done', message('phase.eject.by', { command: `${tool} ${args.join(' ')}` }));
      return;
    } catch (error) {
      ctx.log('warn', `${tool} could not eject ${device}: ${(error as Error).message.trim()}`);
    }
  }
  ctx.phase('eject', 'skipped', message('phase.eject.failed'));
}
