/**
 * `cardsmith`: the engine in a terminal, and the privileged worker's entry (`cardsmith worker`).
 * Exit codes: 0 success, 1 the operation failed (error printed), 2 usage error or not implemented.
 */
import { EXIT_USAGE, parseCommandArgs, UsageError, type Command, type CommandIO } from './cli/command';
import { boardCommand, boardsCommand } from './cli/boards';
import { bootloaderCommand } from './cli/bootloader';
import { buildCommand, planCommand } from './cli/build';
import { catalogCommand } from './cli/catalog';
import { drivesCommand } from './cli/drives';
import { fetchCommand } from './cli/fetch';
import { flashCommand, verifyCommand } from './cli/flash';
import { checkCommand } from './cli/check';
import { stationCommand } from './cli/station';
import { inspectCommand } from './cli/inspect';
import { cardJobCommand } from './cli/card-job';
import { workerCommand } from './cli/worker';
import { formatError } from './cli/render';
import { toErrorInfo } from './engine/errors';

export const COMMANDS: readonly Command[] = [
  boardsCommand,
  boardCommand,
  drivesCommand,
  inspectCommand,
  buildCommand,
  planCommand,
  fetchCommand,
  catalogCommand,
  bootloaderCommand,
  flashCommand,
  verifyCommand,
  checkCommand,
  stationCommand,
  workerCommand,
  cardJobCommand,
];

function mainHelp(): string {
  const lines = ['cardsmith — build, flash and verify bootable SD cards for your board', '', 'Usage: cardsmith <command> [options]', '', 'Commands:'];
  for (const command of COMMANDS) if (!command.hidden) lines.push(`  ${command.name.padEnd(12)} ${command.summary}`);
  lines.push('', 'Every command takes --help and --json (NDJSON events on stdout, one per line).', '');
  return lines.join('\n');
}

function commandHelp(command: Command): string {
  return `${command.summary}\n\nUsage: ${command.usage}\n\nCommon options: --json  --verbose  --help\n`;
}

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainHelp());
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    io.err(`cardsmith: unknown command "${name}"\n\n${mainHelp()}`);
    return EXIT_USAGE;
  }
  try {
    const { values, positionals } = parseCommandArgs(command, rest);
    if (values.help === true) {
      io.out(commandHelp(command));
      return 0;
    }
    return await command.run(values, positionals, { ...io, json: values.json === true });
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`cardsmith ${name}: ${(error as Error).message}\n\nUsage: ${command.usage}\n`);
      return EXIT_USAGE;
    }
    io.err(`${formatError(toErrorInfo(error))}\n`);
    return 1;
  }
}

/**
 * A reader that stops early (`cardsmith board … | head -2`) closes stdout: the next write fails
 * with EPIPE, which is the end of the output, not an error. Exit quietly, as other tools do.
 */
function exitQuietlyWhenStdoutCloses(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

/** Runs the CLI in this process and sets the exit code; used by bin/cardsmith.cjs. */
export function runCli(argv: string[]): void {
  exitQuietlyWhenStdoutCloses();
  const io: CommandIO = {
    json: false,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  };
  main(argv, io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

// Started directly (`node dist/cli.cjs …`, as the packaged worker launcher and card jobs are),
// the bundle runs itself; required by bin/cardsmith.cjs, it waits for runCli.
if (typeof require !== 'undefined' && typeof module !== 'undefined' && require.main === module) runCli(process.argv.slice(2));
