/**
 * What the app remembers across launches: the last board, image and card (the card by identity —
 * device, name and size — so another card in the same reader is not taken for it) and the boards
 * used lately. Stored as JSON beside the settings; a damaged entry is simply forgotten.
 */
import type { Drive } from '../../../electron/engine/drives/model';
import type { BoardChoice, ImageChoice } from './flow';

export const MEMORY_KEY = 'cardsmith.memory.v1';
const RECENT_MAX = 5;

export type RememberedImage = { readonly kind: 'catalog'; readonly id: string } | { readonly kind: 'file'; readonly path: string } | { readonly kind: 'url'; readonly url: string };

export interface CardIdentity {
  readonly device: string;
  readonly description: string;
  readonly sizeBytes: number | null;
}

export interface Memory {
  /** A board id, or "generic". */
  readonly board: string | null;
  readonly image: RememberedImage | null;
  readonly card: CardIdentity | null;
  readonly recentBoards: readonly string[];
}

export const EMPTY_MEMORY: Memory = { board: null, image: null, card: null, recentBoards: [] };

const isString = (value: unknown): value is string => typeof value === 'string' && value !== '';

function parseImage(value: unknown): RememberedImage | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (v.kind === 'catalog' && isString(v.id)) return { kind: 'catalog', id: v.id };
  if (v.kind === 'file' && isString(v.path)) return { kind: 'file', path: v.path };
  if (v.kind === 'url' && isString(v.url)) return { kind: 'url', url: v.url };
  return null;
}

function parseCard(value: unknown): CardIdentity | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (!isString(v.device) || typeof v.description !== 'string') return null;
  return { device: v.device, description: v.description, sizeBytes: typeof v.sizeBytes === 'number' ? v.sizeBytes : null };
}

export function parseMemory(text: string | null): Memory {
  try {
    const raw = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    return {
      board: isString(raw.board) ? raw.board : null,
      image: parseImage(raw.image),
      card: parseCard(raw.card),
      recentBoards: Array.isArray(raw.recentBoards) ? raw.recentBoards.filter(isString).slice(0, RECENT_MAX) : [],
    };
  } catch {
    return EMPTY_MEMORY;
  }
}

export function rememberBoard(memory: Memory, choice: BoardChoice): Memory {
  const id = choice.kind === 'board' ? choice.board.id : 'generic';
  const recentBoards = choice.kind === 'board' ? [id, ...memory.recentBoards.filter((r) => r !== id)].slice(0, RECENT_MAX) : memory.recentBoards;
  return { ...memory, board: id, recentBoards };
}

/** Built rootfs choices are not remembered: their options belong to one flash. */
export function rememberImage(memory: Memory, choice: ImageChoice | null): Memory {
  if (!choice || choice.kind === 'rootfs') return memory;
  const image: RememberedImage = choice.kind === 'catalog' ? { kind: 'catalog', id: choice.entry.id } : choice.kind === 'file' ? { kind: 'file', path: choice.path } : { kind: 'url', url: choice.url };
  return { ...memory, image };
}

export function rememberCard(memory: Memory, drive: Drive | null): Memory {
  return drive ? { ...memory, card: { device: drive.device, description: drive.description, sizeBytes: drive.sizeBytes } } : memory;
}

export function isSameCard(identity: CardIdentity | null, drive: Drive): boolean {
  return identity !== null && identity.device === drive.device && identity.description === drive.description && identity.sizeBytes === drive.sizeBytes;
}
