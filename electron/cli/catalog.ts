import type { ResultOf } from '../engine/api';
import { isSkipLine } from '../engine/sources/catalogs/read';
import { EXIT_OK, execute, type Command, type CommandIO } from './command';
import { formatBytes } from './render';

type CatalogResult = ResultOf<'catalog'>;

/** Per catalog document: entries read, listed, skipped by reason, boards covered, names unmapped. */
function printStats(stats: NonNullable<CatalogResult['stats']>, io: CommandIO): void {
  for (const row of stats) {
    io.out(`${row.source} (${row.format})\n`);
    io.out(`  read ${row.read}, listed ${row.listed}, skipped ${row.read - row.listed}\n`);
    for (const [reason, n] of Object.entries(row.skipped).sort()) io.out(`    ${reason}: ${n}\n`);
    io.out(`  boards covered (${row.boards.length}): ${row.boards.join(' ') || '-'}\n`);
    if (row.unmapped.length > 0) io.out(`  no Cardsmith board for (${row.unmapped.length}): ${row.unmapped.join(' ')}\n`);
  }
}

function printEntries(result: CatalogResult, io: CommandIO): void {
  for (const entry of result.entries) {
    const size = entry.downloadSize ? formatBytes(entry.downloadSize) : '?';
    io.out(`${entry.id.padEnd(36)} ${entry.kind.padEnd(6)} ${size.padEnd(10)} ${entry.cached ? 'cached ' : ''}${entry.name}\n`);
  }
}

export const catalogCommand: Command = {
  name: 'catalog',
  summary: 'List catalog images and root filesystems (optionally only those for one board)',
  usage:
    'cardsmith catalog [--board <id>] [--stats] [--json]\n' +
    '  --stats  per catalog: entries read, listed, skipped (by reason), boards covered;\n' +
    '           the warnings name every skipped entry and why (also with -v).\n' +
    '  CARDSMITH_CATALOGS adds catalogs (URLs, or catalog files on disk, which may name local images).',
  options: { board: { type: 'string' }, stats: { type: 'boolean', default: false } },
  async run(values, _positionals, io) {
    const board = typeof values.board === 'string' ? values.board : undefined;
    const outcome = await execute<'catalog'>({ op: 'catalog', board }, io, values.verbose === true);
    if (!outcome.ok) return outcome.exitCode;
    if (io.json) return EXIT_OK;
    const all = values.stats === true || values.verbose === true;
    if (values.stats === true) printStats(outcome.result.stats ?? [], io);
    else printEntries(outcome.result, io);
    const skips = outcome.result.problems.filter(isSkipLine);
    for (const problem of outcome.result.problems) if (all || !isSkipLine(problem)) io.err(`warning: ${problem}\n`);
    // A public catalog skips hundreds of files that are not card images: named with --stats or -v.
    if (!all && skips.length > 0) io.err(`warning: ${skips.length} catalog entries were not listed; \`cardsmith catalog --stats\` names each and why\n`);
    return EXIT_OK;
  },
};
