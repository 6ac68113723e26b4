/** The shape of a `cardsmith` subcommand and the shared way to run a contract request. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseResult, RequestSchema, type JobEvent, type Op, type Request, type RequestInput, type ResultOf } from '../engine/api';
import { runOnCards } from '../engine/elevated/run-on-cards';
import { toErrorInfo, type ErrorInfo } from '../engine/errors';
import { refuseSourceOnCard } from '../engine/flash/card';
import { runRequest } from '../engine/operations';
import { cardRoute, explainPermission, jobEnvironment, withAbsolutePaths } from './as-user';
import { humanRenderer, jsonRenderer } from './render';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type ParsedValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface CommandIO {
  json: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface Command {
  name: string;
  summary: string;
  /** Usage lines after `cardsmith <name>`, and option descriptions, for --help. */
  usage: string;
  options: OptionSpec;
  allowPositionals?: boolean;
  hidden?: boolean;
  run(values: ParsedValues, positionals: string[], io: CommandIO): Promise<number>;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const COMMON_OPTIONS: OptionSpec = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  verbose: { type: 'boolean', short: 'v', default: false },
};

export function parseCommandArgs(command: Command, argv: string[]): { values: ParsedValues; positionals: string[] } {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...COMMON_OPTIONS, ...command.options },
    allowPositionals: command.allowPositionals ?? false,
    strict: true,
  });
  return { values: values as ParsedValues, positionals };
}

export type Outcome<O extends Op> = { ok: true; result: ResultOf<O> } | { ok: false; error: ErrorInfo; exitCode: number };

/**
 * Runs a request in this process, or — a card request in a CLI run with sudo/pkexec — opens its
 * cards here and runs the job as the invoking user (as-user.ts).
 */
async function runRoutes<O extends Op>(request: Extract<RequestInput, { op: O }>, emit: (event: JobEvent) => void, signal: AbortSignal): Promise<ResultOf<O> | undefined> {
  const parsed = RequestSchema.safeParse(request);
  let route;
  try {
    route = parsed.success ? cardRoute(parsed.data) : ({ kind: 'in-process' } as const);
  } catch (error) {
    emit({ type: 'error', error: toErrorInfo(error) });
    return undefined;
  }
  if (route.kind === 'in-process') {
    if (route.note) emit({ type: 'log', level: 'info', message: route.note });
    return runRequest<O>(request, emit, signal);
  }
  const { user } = route;
  const asUser = withAbsolutePaths(parsed.data as Request, process.cwd());
  try {
    // A card that holds the job's own source is refused before it is unmounted, as the app does.
    refuseSourceOnCard(asUser);
  } catch (error) {
    emit({ type: 'error', error: toErrorInfo(error) });
    return undefined;
  }
  const relay = (event: JobEvent): void => emit(event.type === 'error' ? { ...event, error: explainPermission(event.error, user) } : event);
  const ended = await runOnCards(asUser, { user, signal, entry: process.argv.slice(1, 2), env: jobEnvironment(process.env, process.cwd()) }, relay);
  return ended.type === 'result' ? parseResult(request.op as O, ended.result) : undefined;
}

/** Runs one request through the engine, rendering its events as NDJSON or for a person. */
export async function execute<O extends Op>(
  request: Extract<RequestInput, { op: O }>,
  io: CommandIO,
  verbose = false,
): Promise<Outcome<O>> {
  const renderer = io.json ? jsonRenderer() : humanRenderer(process.stderr, verbose);
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  let failure: ErrorInfo | undefined;
  const emit = (event: JobEvent): void => {
    if (event.type === 'error') failure = event.error;
    renderer.onEvent(event);
  };
  try {
    const result = await runRoutes<O>(request, emit, controller.signal);
    if (result !== undefined) return { ok: true, result };
    const error = failure ?? { cause: 'internal', message: 'job ended without a result' };
    return { ok: false, error, exitCode: error.cause === 'not-implemented' || error.cause === 'bad-input' ? EXIT_USAGE : EXIT_FAILED };
  } finally {
    process.off('SIGINT', onSigint);
    renderer.close();
  }
}

export function requireString(values: ParsedValues, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export class UsageError extends Error {}

/**
 * A command that maps its arguments to one request and prints the result: JSON on `--json`
 * (the result event is already on stdout), `printHuman` otherwise.
 */
export function requestCommand<O extends Op>(spec: {
  name: string;
  summary: string;
  usage: string;
  options?: OptionSpec;
  allowPositionals?: boolean;
  toRequest(values: ParsedValues, positionals: string[]): Extract<RequestInput, { op: O }> | Promise<Extract<RequestInput, { op: O }>>;
  printHuman(result: ResultOf<O>, io: CommandIO): void;
  /** Exit code for a successful run whose result still reports a failure (e.g. verify mismatch). */
  exitCodeFor?(result: ResultOf<O>): number;
}): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    usage: spec.usage,
    options: spec.options ?? {},
    allowPositionals: spec.allowPositionals ?? false,
    async run(values, positionals, io) {
      const request = await spec.toRequest(values, positionals);
      const outcome = await execute<O>(request, io, values.verbose === true);
      if (!outcome.ok) return outcome.exitCode;
      if (!io.json) spec.printHuman(outcome.result, io);
      return spec.exitCodeFor ? spec.exitCodeFor(outcome.result) : EXIT_OK;
    },
  };
}
