/**
 * The board database: data/boards.json validated against BoardDatabaseSchema once, then looked
 * up by id. A board id may also name a pairing "generic-<arch>+<board>": a multiplatform image
 * profile carrying one board's loader writes, so one generic image serves many boards.
 */
import raw from './data/boards.json';
import { CardsmithError } from '../errors';
import { BoardDatabaseSchema, type Board, type BoardDatabase } from './model';

let cached: BoardDatabase | undefined;

export function boardDatabase(): BoardDatabase {
  cached ??= validateDatabase(raw);
  return cached;
}

/** Parses a database and checks what zod cannot: unique ids, known families and source keys. */
export function validateDatabase(input: unknown): BoardDatabase {
  const db = BoardDatabaseSchema.parse(input);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const board of db.boards) {
    if (seen.has(board.id)) problems.push(`duplicate board id ${board.id}`);
    seen.add(board.id);
    if (!db.families[board.family]) problems.push(`${board.id}: unknown family ${board.family}`);
    for (const key of board.sources) if (!(key in db.sources)) problems.push(`${board.id}: unknown source ${key}`);
    if (board.bootMethod === 'raw-offset' && board.writes.length === 0) problems.push(`${board.id}: raw-offset board without writes`);
    if (board.loader.kind === 'debian') {
      for (const write of board.writes) {
        if (!board.loader.files.includes(write.file)) problems.push(`${board.id}: ${write.file} is not among the Debian files`);
      }
    }
  }
  for (const [name, family] of Object.entries(db.families)) {
    for (const key of family.sources) if (!(key in db.sources)) problems.push(`family ${name}: unknown source ${key}`);
  }
  if (problems.length > 0) throw new CardsmithError('internal', `Board database is inconsistent: ${problems.join('; ')}`);
  return db;
}

export function listBoards(): readonly Board[] {
  return boardDatabase().boards;
}

/** A generic image serves the boards whose arch it lists (its userland must run on their CPU). */
function genericServes(generic: Board, board: Board): boolean {
  return (generic.genericFor ?? []).includes(board.arch);
}

/** Looks up a board id (or "generic-<arch>+<board>"); unknown ids fail listing the closest ones. */
export function findBoard(id: string, boards: readonly Board[] = listBoards()): Board {
  const plus = id.indexOf('+');
  if (plus > 0) return pairGeneric(findBoard(id.slice(0, plus), boards), findBoard(id.slice(plus + 1), boards));
  const board = boards.find((candidate) => candidate.id === id);
  if (board) return board;
  const closest = closestIds(id, boards.map((candidate) => candidate.id));
  const details = { board: id, closest };
  throw closest.length > 0 ? CardsmithError.keyed('unknown-board', 'board.unknownClosest', { board: id, closest: closest.join(', ') }, details) : CardsmithError.keyed('unknown-board', 'board.unknownId', { board: id }, details);
}

/** A generic image profile that carries `board`'s loader writes and layout rules. */
export function pairGeneric(generic: Board, board: Board): Board {
  if (!generic.genericFor) {
    throw CardsmithError.keyed('bad-input', 'board.notGeneric', { board: generic.id }, { board: generic.id });
  }
  if (!genericServes(generic, board)) {
    throw CardsmithError.keyed('bad-input', 'board.wrongArch', { generic: generic.name, genericArch: generic.arch, board: board.name, boardArch: board.arch }, {
      generic: generic.id,
      board: board.id,
      genericArch: generic.arch,
      boardArch: board.arch,
    });
  }
  return {
    ...board,
    id: `${generic.id}+${board.id}`,
    name: `${generic.name} + ${board.name} loader`,
    firstPartitionMinStart: Math.max(generic.firstPartitionMinStart, board.firstPartitionMinStart),
    partitionTables: board.partitionTables.filter((kind) => generic.partitionTables.includes(kind)),
    sources: [...new Set([...board.sources, ...generic.sources])],
  };
}

/** Up to five ids ranked by edit distance, substring matches first. */
export function closestIds(query: string, ids: readonly string[], limit = 5): string[] {
  const q = query.toLowerCase();
  return ids
    .map((id) => ({ id, score: editDistance(q, id) - (id.includes(q) || q.includes(id) ? 100 : 0) }))
    .sort((a, b) => a.score - b.score || a.id.localeCompare(b.id))
    .slice(0, limit)
    .map((entry) => entry.id);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
