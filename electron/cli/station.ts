import type { StationEvent } from '../engine/api';
import { toErrorInfo, type ErrorInfo } from '../engine/errors';
import { parseSize, type StationFilter } from '../engine/station/filter';
import { runStation, type StationJobs } from '../engine/station/station';
import { userRoute } from './as-user';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, type Command, type CommandIO } from './command';
import { confirm } from './flash';
import { formatBytes, formatError } from './render';
import { stationJobsAs } from './station-as-user';

function countFrom(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) throw new UsageError(`--count takes a whole number of cards (1 or more), not ${String(value)}`);
  return count;
}

function filterFrom(values: Record<string, unknown>): StationFilter {
  const min = typeof values['min-size'] === 'string' ? parseSize(values['min-size'], '--min-size') : undefined;
  const max = typeof values['max-size'] === 'string' ? parseSize(values['max-size'], '--max-size') : undefined;
  if (min !== undefined && max !== undefined && min > max) throw new UsageError('--min-size is larger than --max-size: no card could be taken');
  const reader = typeof values.reader === 'string' ? values.reader : undefined;
  return { ...(min !== undefined ? { minBytes: min } : {}), ...(max !== undefined ? { maxBytes: max } : {}), ...(reader !== undefined ? { readerPath: reader } : {}) };
}

function describe(event: StationEvent): string {
  switch (event.kind) {
    case 'start':
      return `station: flashing ${event.source} (sha256 ${event.imageSha256}) to every card inserted from now on\nstation: left untouched: ${event.untouched.join(', ') || 'nothing'}`;
    case 'skip':
      return `${event.device}: not taken (${event.reason})`;
    case 'slot': {
      const speed = event.bytesPerSecond ? ` ${formatBytes(event.bytesPerSecond)}/s` : '';
      if (event.state === 'done') return `${event.device}: done ✓`;
      if (event.state === 'failed') return `${event.device}: failed ✗ ${event.error ?? ''}`;
      return `${event.device}: ${event.state}${event.percent === null ? '' : ` ${event.percent}%`}${speed}`;
    }
    case 'tally':
      return `station: ${event.ok} done ✓, ${event.failed} failed ✗, ${event.running} running`;
    case 'end':
      return `station: stopped after ${event.rows.length} card(s)${event.reports.length ? `; report ${event.reports.join(', ')}` : ''}`;
  }
}

function printer(io: CommandIO): (event: StationEvent) => void {
  if (io.json) return (event) => io.out(`${JSON.stringify(event)}\n`);
  // Progress lines only every 10% per card, so sixteen cards stay readable in a terminal.
  const shown = new Map<string, string>();
  return (event) => {
    if (event.kind === 'slot' && event.percent !== null && event.state !== 'done') {
      const key = `${event.state} ${Math.floor(event.percent / 10)}`;
      if (shown.get(event.device) === key) return;
      shown.set(event.device, key);
    }
    io.err(`${describe(event)}\n`);
  };
}

function fail(info: ErrorInfo, io: CommandIO): number {
  if (io.json) io.out(`${JSON.stringify({ type: 'error', error: info })}\n`);
  else io.err(`${formatError(info)}\n`);
  return info.cause === 'bad-input' ? EXIT_USAGE : EXIT_FAILED;
}

export const stationCommand: Command = {
  name: 'station',
  summary: 'Flash and verify every card inserted while it runs (a flashing station), with a report',
  usage: [
    'cardsmith station <image|url|catalog-id> [--board <id>] [--count N] [--report FILE.csv|FILE.json]…',
    '  [--min-size S] [--max-size S] [--reader PATH] [--allow-loop] [--yes] [--json]',
    '  --reader: only cards whose reader path (sysfs port; a loop device\'s backing file) starts with PATH',
    '  drives present at start are never touched; each card inserted later that passes the safety',
    '  rules and the size filter (8G = GiB, 16GB = decimal) is flashed, verified and ejected.',
    '  --count stops after N cards (ok or failed); --report writes one row per card.',
    '  without --yes, asks once before starting; --allow-loop (development) accepts loop devices',
  ].join('\n'),
  options: {
    board: { type: 'string' },
    count: { type: 'string' },
    report: { type: 'string', multiple: true },
    reader: { type: 'string' },
    'min-size': { type: 'string' },
    'max-size': { type: 'string' },
    'allow-loop': { type: 'boolean', default: false },
    yes: { type: 'boolean', short: 'y', default: false },
  },
  allowPositionals: true,
  async run(values, positionals, io) {
    const [source, ...extra] = positionals;
    if (source === undefined || extra.length > 0) throw new UsageError('give exactly one image, URL or catalog id');
    const count = countFrom(values.count);
    const filter = filterFrom(values);
    if (values.yes !== true) {
      const ok = await confirm(`Every card inserted from now on will be erased and replaced by ${source}. Type "yes" to start the station: `);
      if (!ok) {
        io.err('Not confirmed; the station did not start. Use --yes to skip the question.\n');
        return EXIT_USAGE;
      }
    }
    let jobs: StationJobs | undefined;
    try {
      // Under sudo/pkexec the fetch and every card's job run as the invoking user (station-as-user.ts).
      const route = userRoute();
      if (route.kind === 'as-user') jobs = stationJobsAs(route.user, process.cwd());
      else if (route.note) io.err(`station: ${route.note}\n`);
    } catch (error) {
      return fail(toErrorInfo(error), io);
    }
    const controller = new AbortController();
    const onSigint = (): void => controller.abort();
    process.once('SIGINT', onSigint);
    try {
      const rows = await runStation(
        {
          source,
          board: typeof values.board === 'string' ? values.board : undefined,
          count,
          reports: Array.isArray(values.report) ? values.report.filter((r): r is string => typeof r === 'string') : [],
          filter,
          allowLoop: values['allow-loop'] === true,
          jobs,
        },
        printer(io),
        controller.signal,
      );
      return rows.every((row) => row.result === 'ok') ? EXIT_OK : EXIT_FAILED;
    } catch (error) {
      return fail(toErrorInfo(error), io);
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
