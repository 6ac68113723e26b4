/**
 * Turns the flow's choices into the one engine job a "Flash" click runs: a flash of an image
 * (path, URL or catalog id), or a flash with a build recipe, which the engine builds at the card's
 * size (fetching a catalog rootfs first) and writes in the same job. The plan also names the
 * phases the person will see, so every progress row exists before it starts.
 */
import type { Customise, Phase, RequestInput } from '../../../electron/engine/api';
import type { Settings } from './settings';
import { boardId, sourceOf, type FlowState, type RootSize } from './flow';

export interface FlashPlan {
  /** The image flashed as it is; null when a rootfs is built. */
  readonly source: string | null;
  /**
   * A rootfs built into the card's image: a local path, or a catalog rootfs id the engine
   * downloads first (`remote`: nothing to plan before the flash).
   */
  readonly build: { readonly rootfs: string; readonly remote: boolean; readonly rootSize: RootSize; readonly loaderFrom?: string } | null;
  readonly device: string;
  /** The card's size, which Review plans a `fill` root at (the flash builds at the card's real size). */
  readonly cardBytes: number | null;
  readonly board: string | undefined;
  readonly verify: boolean;
  readonly eject: boolean;
  /** Hashed first-boot settings: built into a rootfs, or given to the flash of a plain image. */
  readonly customise: Customise | null;
  readonly phases: readonly Phase[];
}

export function planFlash(flow: FlowState, settings: Pick<Settings, 'verify' | 'eject'>): FlashPlan | null {
  const { image, drive } = flow;
  if (!image || !drive || !flow.board) return null;
  const board = boardId(flow.board);
  // An image (catalog or URL) is flashed straight from its source: the download overlaps the
  // write and lands in the cache. A catalog rootfs is downloaded by the flash job before its build.
  const build =
    image.kind === 'rootfs'
      ? { rootfs: image.rootfs, remote: false, rootSize: image.rootSize, ...(image.loaderFrom ? { loaderFrom: image.loaderFrom } : {}) }
      : image.kind === 'catalog' && image.entry.kind === 'rootfs'
        ? { rootfs: image.entry.id, remote: true, rootSize: { mode: 'minimal' } as const }
        : null;
  const remote = image.kind === 'url' || image.kind === 'catalog';
  const phases: Phase[] = [];
  if (remote) phases.push('fetch');
  if (build) phases.push('build');
  phases.push('unmount', 'write');
  if (board) phases.push('bootloader');
  if (settings.verify) phases.push('verify');
  if (settings.eject) phases.push('eject');
  return { source: build ? null : sourceOf(image), build, device: drive.device, cardBytes: drive.sizeBytes ?? null, board, verify: settings.verify, eject: settings.eject, customise: flow.customise, phases };
}

/**
 * The recipe of a build; it needs a board profile (a generic one names its arch), "no bootloader"
 * alone cannot build. The flash job builds a `fill` root at the card's own size.
 */
function buildRecipe(plan: FlashPlan, board: string, rootfs: string): Extract<RequestInput, { op: 'flash' }>['build'] & object {
  const rootSize = plan.build?.rootSize ?? { mode: 'minimal' };
  const loaderFrom = plan.build?.loaderFrom;
  return { board, rootfs, rootSize, ...(loaderFrom ? { loaderFrom } : {}), ...(plan.customise ? { customise: plan.customise } : {}) };
}

/**
 * The build planned only: what the card will look like (the Review step), a `fill` root at the
 * chosen card's size. A catalog rootfs is not downloaded before the flash, so it is not planned.
 */
export function planBuildRequest(plan: FlashPlan): Extract<RequestInput, { op: 'planBuild' }> | null {
  if (!plan.build || plan.build.remote || !plan.board) return null;
  const cardSize = plan.build.rootSize.mode === 'fill' && plan.cardBytes !== null ? { cardSizeBytes: plan.cardBytes } : {};
  return { op: 'planBuild', recipe: { ...buildRecipe(plan, plan.board, plan.build.rootfs), ...cardSize } };
}

/**
 * The one flash job; null for a build without a board profile. A built image holds its
 * customisation; only a plain image carries it on the flash.
 */
export function flashRequest(plan: FlashPlan): Extract<RequestInput, { op: 'flash' }> | null {
  const common = { op: 'flash' as const, device: plan.device, verify: plan.verify, eject: plan.eject, ...(plan.board ? { board: plan.board } : {}) };
  if (plan.build) return plan.board ? { ...common, build: buildRecipe(plan, plan.board, plan.build.rootfs) } : null;
  if (plan.source === null) return null;
  return { ...common, source: plan.source, ...(plan.customise ? { customise: plan.customise } : {}) };
}
