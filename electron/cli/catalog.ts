import { formatBytes } from './render';
import { requestCommand } from './command';

export const catalogCommand = requestCommand<'catalog'>({
  name: 'catalog',
  summary: 'List catalog images and root filesystems (optionally only those for one board)',
  usage: 'cardsmith catalog [--board <id>] [--json]',
  options: { board: { type: 'string' } },
  toRequest: (values) => ({ op: 'catalog', board: typeof values.board === 'string' ? values.board : undefined }),
  printHuman(result, io) {
    for (const entry of result.entries) {
      const size = entry.downloadSize ? formatBytes(entry.downloadSize) : '?';
      io.out(`${entry.id.padEnd(36)} ${entry.kind.padEnd(6)} ${size.padEnd(10)} ${entry.cached ? 'cached ' : ''}${entry.name}\n`);
    }
    for (const problem of result.problems) io.err(`warning: ${problem}\n`);
  },
});
