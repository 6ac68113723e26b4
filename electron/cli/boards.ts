/** `cardsmith boards` (the database) and `cardsmith board <id>` (one profile, with its sources). */
import { boardDatabase, findBoard } from '../engine/boards/db';
import type { Board } from '../engine/boards/model';
import { toErrorInfo } from '../engine/errors';
import { formatBytes, formatError } from './render';
import { EXIT_OK, EXIT_USAGE, requestCommand, UsageError, type Command, type CommandIO } from './command';

export const boardsCommand = requestCommand<'listBoards'>({
  name: 'boards',
  summary: 'List the boards Cardsmith knows, with where their loader goes',
  usage: 'cardsmith boards [--json]',
  toRequest: () => ({ op: 'listBoards' }),
  printHuman(result, io) {
    for (const board of result.boards) {
      const where = board.writes.map((write) => `${write.file}@${write.offsetBytes}`).join(' ') || board.bootMethod;
      io.out(`${board.id.padEnd(24)} ${board.arch.padEnd(8)} ${board.soc.padEnd(26)} ${where}\n`);
    }
    io.out(`${result.boards.length} boards (\`cardsmith board <id>\` for details and sources)\n`);
  },
});

function printBoard(board: Board, io: CommandIO): void {
  const db = boardDatabase();
  const family = db.families[board.family];
  io.out(`${board.name} (${board.id})\n  ${board.vendor}, ${board.soc}, ${board.arch}; family ${family?.name ?? board.family}\n`);
  if (family) io.out(`  boot ROM: ${family.bootRom}\n`);
  for (const write of board.writes) {
    const slice = write.lengthBytes ? ` (file bytes ${write.sourceOffsetBytes}..${write.sourceOffsetBytes + write.lengthBytes - 1})` : write.sourceOffsetBytes ? ` (from file byte ${write.sourceOffsetBytes})` : '';
    io.out(`  write ${write.file} at byte ${write.offsetBytes}${slice}, at most ${formatBytes(write.maxBytes)}\n`);
  }
  for (const alternative of board.alternativeWrites) {
    io.out(`  or "${alternative.label}": ${alternative.writes.map((write) => `${write.file}@${write.offsetBytes}`).join(' + ')}\n`);
  }
  io.out(`  tables: ${board.partitionTables.join(', ')}; first partition at byte ${board.firstPartitionMinStart} or later\n`);
  if (board.bootPartition.fat) io.out(`  boot partition: FAT${board.bootPartition.mustBeFirst ? ', first' : ''}${board.bootPartition.active ? ', active' : ''}; files ${board.bootPartition.firmwareFiles.join(', ')}\n`);
  if (board.bootPartition.configTxt.length) io.out(`  config.txt: ${board.bootPartition.configTxt.join('; ')}\n`);
  if (board.dtb) io.out(`  dtb: ${board.dtb}\n`);
  if (board.console) io.out(`  console: ${board.console}\n`);
  const loader = board.loader;
  if (loader.kind === 'debian') io.out(`  loader: Debian ${loader.package}:${loader.arch} ${loader.dir}/{${loader.files.join(',')}}\n`);
  else io.out(`  loader: ${loader.note}${loader.debianPart ? ` (Debian ships ${loader.debianPart.package}:${loader.debianPart.arch} ${loader.debianPart.dir}/${loader.debianPart.files.join(',')})` : ''}\n`);
  for (const note of board.uncertain) io.out(`  unverified: ${note}\n`);
  io.out('  sources:\n');
  for (const key of board.sources) io.out(`    [${key}] ${db.sources[key] ?? ''}\n`);
}

export const boardCommand: Command = {
  name: 'board',
  summary: 'Show one board profile: loader writes, partition rules, sources',
  usage: 'cardsmith board <id | generic-<arch>+<id>> [--json]',
  options: {},
  allowPositionals: true,
  async run(_values, positionals, io) {
    const [id] = positionals;
    if (!id) throw new UsageError('a board id is required');
    let board: Board;
    try {
      board = findBoard(id);
    } catch (error) {
      const info = toErrorInfo(error);
      if (io.json) io.out(`${JSON.stringify({ type: 'error', error: info })}\n`);
      else io.err(`${formatError(info)}\n`);
      return EXIT_USAGE;
    }
    if (io.json) {
      const sources = Object.fromEntries(board.sources.map((key) => [key, boardDatabase().sources[key] ?? '']));
      io.out(`${JSON.stringify({ type: 'result', op: 'board', result: { ...board, sourceText: sources } })}\n`);
    } else printBoard(board, io);
    return EXIT_OK;
  },
};
