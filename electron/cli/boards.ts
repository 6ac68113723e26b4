import { CardsmithError, toErrorInfo } from '../engine/errors';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, execute, requestCommand, UsageError, type Command } from './command';
import { formatError } from './render';

export const boardsCommand = requestCommand<'listBoards'>({
  name: 'boards',
  summary: 'List the boards Cardsmith knows, with where their loader goes',
  usage: 'cardsmith boards [--json]',
  toRequest: () => ({ op: 'listBoards' }),
  printHuman(result, io) {
    for (const board of result.boards) {
      io.out(`${board.id.padEnd(28)} ${board.vendor.padEnd(14)} ${board.soc.padEnd(12)} ${board.arch.padEnd(8)} ${board.name}\n`);
    }
    io.out(`${result.boards.length} boards\n`);
  },
});

export const boardCommand: Command = {
  name: 'board',
  summary: 'Show one board profile: loader writes, partition rules, sources',
  usage: 'cardsmith board <id> [--json]',
  options: {},
  allowPositionals: true,
  async run(_values, positionals, io) {
    const [id] = positionals;
    if (!id) throw new UsageError('a board id is required');
    const outcome = await execute<'listBoards'>({ op: 'listBoards' }, { ...io, json: false, err: () => undefined });
    if (!outcome.ok) return outcome.exitCode;
    const board = outcome.result.boards.find((candidate) => candidate.id === id);
    if (!board) {
      const error = toErrorInfo(new CardsmithError('unknown-board', `Unknown board "${id}"`, { board: id }));
      if (io.json) io.out(`${JSON.stringify({ type: 'error', error })}\n`);
      else io.err(`${formatError(error)}\n`);
      return EXIT_USAGE;
    }
    io.out(io.json ? `${JSON.stringify({ type: 'result', op: 'board', result: board })}\n` : `${JSON.stringify(board, null, 2)}\n`);
    return board ? EXIT_OK : EXIT_FAILED;
  },
};
