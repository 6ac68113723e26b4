/**
 * Turns the flow's choices into the engine jobs one "Flash" click runs: an optional download of a
 * catalog rootfs, an optional build of a rootfs into an image, then the flash itself. The plan
 * also names the phases the person will see, so every progress row exists before it starts.
 */
import type { Customise, Phase, RequestInput } from '../../../electron/engine/api';
import type { Settings } from './settings';
import { boardId, sourceOf, type FlowState, type RootSize } from './flow';

export interface FlashPlan {
  /**
   * Downloaded first into the cache: a catalog rootfs (its path becomes the build's rootfs) or a
   * URL image (flashed from the cached file, so "verify again" reads the cache, not the network).
   */
  readonly fetchSource: string | null;
  /** Build a rootfs (given path, or the fetched one when null) into an image first. */
  readonly build: { readonly rootfs: string | null; readonly rootSize: RootSize; readonly loaderFrom?: string } | null;
  /** The flash source; null means "the image the build step wrote". */
  readonly flashSource: string | null;
  readonly device: string;
  /** The card's size, which a `fill` root is built to. */
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
  // A rootfs is built from a local file, so a catalog rootfs is fetched first; an image (catalog or
  // URL) is flashed straight from its source: the download overlaps the write and lands in the cache.
  const fetchSource = image.kind === 'catalog' && image.entry.kind === 'rootfs' ? image.entry.id : null;
  const build =
    image.kind === 'rootfs'
      ? { rootfs: image.rootfs, rootSize: image.rootSize, ...(image.loaderFrom ? { loaderFrom: image.loaderFrom } : {}) }
      : image.kind === 'catalog' && image.entry.kind === 'rootfs'
        ? { rootfs: null, rootSize: { mode: 'minimal' } as const }
        : null;
  const remote = image.kind === 'url' || (image.kind === 'catalog' && image.entry.kind === 'image');
  const phases: Phase[] = [];
  if (fetchSource !== null || remote) phases.push('fetch');
  if (build) phases.push('build');
  phases.push('unmount', 'write');
  if (board) phases.push('bootloader');
  if (settings.verify) phases.push('verify');
  if (settings.eject) phases.push('eject');
  return { fetchSource, build, flashSource: sourceOf(image), device: drive.device, cardBytes: drive.sizeBytes ?? null, board, verify: settings.verify, eject: settings.eject, customise: flow.customise, phases };
}

function separatorOf(path: string): string {
  return path.includes('\\') && !path.includes('/') ? '\\' : '/';
}

/** Where a built image goes: the cache folder when set, otherwise beside its rootfs. */
export function buildOutputPath(rootfs: string, board: string | undefined, cacheFolder: string, stamp: string): string {
  const sep = separatorOf(cacheFolder || rootfs);
  const trimmed = rootfs.replace(/[\\/]+$/, '');
  const base = (trimmed.split(/[\\/]/).pop() ?? 'rootfs').replace(/\.(tar(\.(gz|xz|zst|bz2))?|tgz)$/, '');
  const name = `${base}-${board ?? 'generic'}-${stamp}.img`;
  if (cacheFolder) return `${cacheFolder.replace(/[\\/]+$/, '')}${sep}${name}`;
  const parent = trimmed.slice(0, Math.max(0, trimmed.length - (trimmed.split(/[\\/]/).pop() ?? '').length)).replace(/[\\/]+$/, '');
  return `${parent || '.'}${sep}${name}`;
}

/**
 * The recipe of a build; it needs a board profile (a generic one names its arch), "no bootloader"
 * alone cannot build. A `fill` root is built at the card's size, so the card needs no resize.
 */
function buildRecipe(plan: FlashPlan, board: string, rootfs: string): Extract<RequestInput, { op: 'planBuild' }>['recipe'] {
  const rootSize = plan.build?.rootSize ?? { mode: 'minimal' };
  const loaderFrom = plan.build?.loaderFrom;
  const cardSize = rootSize.mode === 'fill' && plan.cardBytes !== null ? { cardSizeBytes: plan.cardBytes } : {};
  return { board, rootfs, rootSize, ...cardSize, ...(loaderFrom ? { loaderFrom } : {}), ...(plan.customise ? { customise: plan.customise } : {}) };
}

/**
 * The build writes its block map beside the image (`<image>.bmap`, which the flash picks up), so
 * only the blocks that hold data are written to the card — a `fill` image is card-sized but sparse.
 */
export function buildRequest(plan: FlashPlan, board: string, rootfs: string, output: string): Extract<RequestInput, { op: 'build' }> {
  return { op: 'build', recipe: { ...buildRecipe(plan, board, rootfs), output, bmap: `${output}.bmap` } };
}

/** The same build, planned only: what the card will look like (the Review step). */
export function planBuildRequest(plan: FlashPlan, board: string, rootfs: string): Extract<RequestInput, { op: 'planBuild' }> {
  return { op: 'planBuild', recipe: buildRecipe(plan, board, rootfs) };
}

/** A built image already holds its customisation; only a plain image carries it on the flash. */
export function flashRequest(plan: FlashPlan, source: string): Extract<RequestInput, { op: 'flash' }> {
  const customise = plan.build === null && plan.customise ? { customise: plan.customise } : {};
  return { op: 'flash', source, device: plan.device, verify: plan.verify, eject: plan.eject, ...(plan.board ? { board: plan.board } : {}), ...customise };
}
