/** The board picker's view logic: search across every field a person may remember, then group. */
import type { Board } from '../../../electron/engine/boards/model';

export interface SocGroup {
  readonly soc: string;
  readonly boards: readonly Board[];
}

export interface VendorGroup {
  readonly vendor: string;
  readonly socs: readonly SocGroup[];
}

function normalize(text: string): string {
  return text.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
}

/** Every word of the query must appear in the board's id, name, vendor, SoC, family or arch. */
export function filterBoards(boards: readonly Board[], query: string): readonly Board[] {
  const words = normalize(query).split(/\s+/).filter(Boolean);
  if (words.length === 0) return boards;
  return boards.filter((board) => {
    const haystack = normalize([board.id, board.name, board.vendor, board.soc, board.family, board.arch].join(' '));
    return words.every((word) => haystack.includes(word));
  });
}

const byText = (a: string, b: string): number => a.localeCompare(b, 'en', { sensitivity: 'base' });

export function groupBoards(boards: readonly Board[]): readonly VendorGroup[] {
  const vendors = new Map<string, Map<string, Board[]>>();
  for (const board of boards) {
    const socs = vendors.get(board.vendor) ?? new Map<string, Board[]>();
    vendors.set(board.vendor, socs);
    const list = socs.get(board.soc) ?? [];
    socs.set(board.soc, list);
    list.push(board);
  }
  return [...vendors.entries()]
    .sort(([a], [b]) => byText(a, b))
    .map(([vendor, socs]) => ({
      vendor,
      socs: [...socs.entries()]
        .sort(([a], [b]) => byText(a, b))
        .map(([soc, list]) => ({ soc, boards: [...list].sort((a, b) => byText(a.name, b.name)) })),
    }));
}

/** Boards many people flash; they are offered first (after the ones this person used lately). */
export const POPULAR_BOARDS: readonly string[] = ['rpi-5', 'rpi-4-b', 'rpi-zero-2-w', 'rock64', 'rockpro64', 'rock-5b', 'orangepi-pc', 'pine64-plus', 'odroid-n2', 'beaglebone-black'];

export interface BoardFilters {
  readonly vendor: string;
  readonly family: string;
  readonly arch: string;
}

export const NO_FILTERS: BoardFilters = { vendor: '', family: '', arch: '' };

/** The distinct values a filter can take, sorted for a select. */
export function filterOptions(boards: readonly Board[], key: keyof BoardFilters): readonly string[] {
  return [...new Set(boards.map((board) => board[key]))].sort(byText);
}

export function applyFilters(boards: readonly Board[], filters: BoardFilters): readonly Board[] {
  return boards.filter(
    (board) => (!filters.vendor || board.vendor === filters.vendor) && (!filters.family || board.family === filters.family) && (!filters.arch || board.arch === filters.arch),
  );
}

/** The recent boards (most recent first), then the popular ones, among those the filters left. */
export function suggestedBoards(boards: readonly Board[], recent: readonly string[]): readonly Board[] {
  const byId = new Map(boards.map((board) => [board.id, board]));
  const ids = [...new Set([...recent, ...POPULAR_BOARDS])];
  return ids.map((id) => byId.get(id)).filter((board): board is Board => board !== undefined);
}
