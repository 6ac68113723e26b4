/**
 * The guided flow as data: which screen is open, what the person picked on each step, and which
 * steps may be entered. Picking something upstream (another board, another image) clears the
 * choices that depended on it, so the Review never shows a stale combination.
 */
import type { BuildRecipe, Customise, Preset } from '../../../electron/engine/api';
import type { Board } from '../../../electron/engine/boards/model';
import type { Drive } from '../../../electron/engine/drives/model';
import type { CatalogEntry } from '../../../electron/engine/sources/model';

export const FLOW_STEPS = ['board', 'image', 'customise', 'card', 'review', 'flash', 'done'] as const;
export type FlowStep = (typeof FLOW_STEPS)[number];

export type Screen =
  | { readonly kind: 'flow'; readonly step: FlowStep }
  | { readonly kind: 'verify' }
  | { readonly kind: 'inspect' }
  | { readonly kind: 'station' }
  | { readonly kind: 'settings' };

export type BoardChoice = { readonly kind: 'generic' } | { readonly kind: 'board'; readonly board: Board };

export type RootSize = BuildRecipe['rootSize'];

export type ImageChoice =
  | { readonly kind: 'catalog'; readonly entry: CatalogEntry }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'url'; readonly url: string }
  | {
      readonly kind: 'rootfs';
      readonly rootfs: string;
      readonly rootSize: RootSize;
      /** Where the board's loader files come from when the host has no Debian u-boot package. */
      readonly loaderFrom?: string;
    };

export interface FlowState {
  readonly screen: Screen;
  readonly board: BoardChoice | null;
  readonly image: ImageChoice | null;
  readonly drive: Drive | null;
  /** Several cards for one `flashMany` job (two or more; `drive` is the first); empty in the one-card flow. */
  readonly cards: readonly Drive[];
  /** The person typed the confirmation a large drive needs. */
  readonly confirmed: boolean;
  /** A local file is checked (readable, looks like a disk image) before the flow goes on. */
  readonly imageChecked: boolean;
  /**
   * First-boot settings with secrets already hashed; null is "no customisation", the default,
   * and then the Customise step is passed over by Next and Back (it is opened from its tile or Review).
   */
  readonly customise: Customise | null;
  /** The default preset, offered by the Customise step (so Next stops there) while nothing is customised. */
  readonly presetOffer: Preset | null;
}

export const INITIAL_FLOW: FlowState = { screen: { kind: 'flow', step: 'board' }, board: null, image: null, drive: null, cards: [], confirmed: false, imageChecked: false, customise: null, presetOffer: null };

/** Drives above this size ask for a typed confirmation: they are more often a backup disk than a card. */
export const CONFIRM_ABOVE_BYTES = 128 * 1000 ** 3;

export function needsTypedConfirmation(drive: Drive | null): boolean {
  return drive !== null && (drive.sizeBytes ?? 0) > CONFIRM_ABOVE_BYTES;
}

/** What a person must type to confirm: the device's last path segment (sdb, disk4, PhysicalDrive2). */
export function confirmationWord(drive: Drive): string {
  return drive.device.split(/[\\/]/).filter(Boolean).pop() ?? drive.device;
}

export function chooseBoard(state: FlowState, board: BoardChoice): FlowState {
  // A file dropped before any board was chosen stays chosen; a catalog entry belongs to its board.
  if (state.board === null && state.image !== null && state.image.kind !== 'catalog') return { ...state, board };
  const same = boardId(state.board) === boardId(board) && state.board !== null;
  return same ? { ...state, board } : { ...state, board, image: null, imageChecked: false, confirmed: false };
}

export function chooseImage(state: FlowState, image: ImageChoice | null): FlowState {
  return { ...state, image, imageChecked: image !== null && image.kind !== 'file', confirmed: false };
}

/** The check of a chosen local file ended; only the answer for the file still chosen counts. */
export function imageChecked(state: FlowState, path: string, ok: boolean): FlowState {
  return state.image?.kind === 'file' && state.image.path === path ? { ...state, imageChecked: ok } : state;
}

export function chooseDrive(state: FlowState, drive: Drive | null): FlowState {
  return { ...state, drive, cards: [], confirmed: false };
}

/** Adds or removes one card of several; the first stays the flow's `drive`. */
export function toggleCard(state: FlowState, drive: Drive): FlowState {
  const chosen = state.cards.length > 0 ? state.cards : state.drive ? [state.drive] : [];
  const cards = chosen.some((d) => d.device === drive.device) ? chosen.filter((d) => d.device !== drive.device) : [...chosen, drive];
  return { ...state, drive: cards[0] ?? null, cards: cards.length > 1 ? cards : [], confirmed: false };
}

/** Why several cards cannot be written in one job with these choices, or null when they can. */
export function severalBlock(state: FlowState): 'build' | 'customise' | null {
  if (state.image?.kind === 'rootfs' || (state.image?.kind === 'catalog' && state.image.entry.kind === 'rootfs')) return 'build';
  return state.customise !== null ? 'customise' : null;
}

/** After a new drive list: cards pulled out of their readers are no longer chosen. */
export function keepPresentCards(state: FlowState, present: ReadonlySet<string>): FlowState {
  if (state.cards.every((d) => present.has(d.device))) return state;
  const cards = state.cards.filter((d) => present.has(d.device));
  return { ...state, drive: cards[0] ?? null, cards: cards.length > 1 ? cards : [], confirmed: false };
}

export function isSeveral(state: FlowState): boolean {
  return state.cards.length > 1;
}

export function boardId(choice: BoardChoice | null): string | undefined {
  return choice?.kind === 'board' ? choice.board.id : undefined;
}

/** Whether a step can be opened given what is chosen so far (flash and done come from actions). */
export function canEnter(state: FlowState, step: FlowStep): boolean {
  switch (step) {
    case 'board':
      return true;
    case 'image':
      return state.board !== null;
    case 'customise':
    case 'card':
      return state.board !== null && state.image !== null && state.imageChecked;
    case 'review':
      return canEnter(state, 'card') && state.drive !== null;
    case 'flash':
      if (isSeveral(state)) return canEnter(state, 'review') && severalBlock(state) === null && !state.cards.some(needsTypedConfirmation);
      return canEnter(state, 'review') && (state.confirmed || !needsTypedConfirmation(state.drive));
    case 'done':
      return false;
  }
}

/** Whether Next and Back stop at a step: an unused Customise step with no preset to offer costs no click. */
function stopsAt(state: FlowState, step: FlowStep | undefined): boolean {
  return step !== 'customise' || state.customise !== null || state.presetOffer !== null;
}

export function nextStep(state: FlowState, step: FlowStep): FlowStep | null {
  const later = FLOW_STEPS.slice(FLOW_STEPS.indexOf(step) + 1);
  return later.find((s) => stopsAt(state, s)) ?? null;
}

export function previousStep(state: FlowState, step: FlowStep): FlowStep | null {
  const earlier = FLOW_STEPS.slice(0, FLOW_STEPS.indexOf(step)).reverse();
  return earlier.find((s) => stopsAt(state, s)) ?? null;
}

/** "Step n of total" counting only the steps this flow stops at (and the one open). */
export function stepNumber(state: FlowState, step: FlowStep): { n: number; total: number } {
  const steps = FLOW_STEPS.filter((s) => s === step || stopsAt(state, s));
  return { n: steps.indexOf(step) + 1, total: steps.length };
}

/** Settings that ask for nothing are no customisation. */
export function setCustomise(state: FlowState, customise: Customise | null): FlowState {
  const empty = customise === null || Object.values(customise).every((value) => value === undefined);
  return { ...state, customise: empty ? null : customise };
}

export function goTo(state: FlowState, step: FlowStep): FlowState {
  return canEnter(state, step) ? { ...state, screen: { kind: 'flow', step } } : state;
}

/**
 * Defaults that make "launch to a verified card" a handful of clicks: the catalog's first entry
 * this board can use, and the card when exactly one can be chosen. Nothing is ever flashed
 * without the Review step's explicit click.
 */
export function defaultCatalogImage(entries: readonly CatalogEntry[], board: BoardChoice | null): ImageChoice | null {
  const usable = entries.find((entry) => entry.kind === 'image' || board?.kind === 'board');
  return usable ? { kind: 'catalog', entry: usable } : null;
}

export function onlyChoosableDrive(choosable: readonly Drive[]): Drive | null {
  return choosable.length === 1 ? (choosable[0] ?? null) : null;
}

/** After a finished flash: keep board and image, pick a new card. */
export function flashAnother(state: FlowState): FlowState {
  return { ...state, drive: null, cards: [], confirmed: false, screen: { kind: 'flow', step: 'card' } };
}

/** The source string the engine understands for a chosen image (built images have none yet). */
export function sourceOf(image: ImageChoice): string | null {
  switch (image.kind) {
    case 'catalog':
      return image.entry.kind === 'image' ? image.entry.id : null;
    case 'file':
      return image.path;
    case 'url':
      return image.url;
    case 'rootfs':
      return null;
  }
}
