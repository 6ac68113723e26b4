/**
 * Renders a job's events for a person (progress bars on a terminal, plain lines otherwise) or
 * as NDJSON (`--json`: one contract event per line on stdout, nothing else on stdout).
 */
import type { JobEvent, Phase } from '../engine/api';
import type { ErrorInfo } from '../engine/errors';
import { formatBinary } from '../engine/shared/pure';

export interface Renderer {
  onEvent(event: JobEvent): void;
  close(): void;
}

export function jsonRenderer(write: (line: string) => void = (l) => process.stdout.write(l)): Renderer {
  return {
    onEvent: (event) => write(`${JSON.stringify(event)}\n`),
    close: () => undefined,
  };
}

const BAR_WIDTH = 30;

/** Sizes in binary units, the shared rules with the CLI's fixed locale ("1.5 MiB", "3 GiB"). */
export const formatBytes = (bytes: number): string => formatBinary(bytes, 'en-US');

export function progressLine(phase: Phase, done: number, total: number | null, speed: number, eta: number | null, limitedBy?: 'card' | 'source'): string {
  const speedText = `${formatBytes(speed)}/s${limitedBy ? ` (limited by the ${limitedBy})` : ''}`;
  if (total === null || total === 0) return `${phase.padEnd(10)} ${formatBytes(done)}  ${speedText}`;
  const fraction = Math.min(1, done / total);
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
  const etaText = eta === null ? '' : `  ETA ${Math.ceil(eta)}s`;
  return `${phase.padEnd(10)} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${formatBytes(done)}/${formatBytes(total)}  ${speedText}${etaText}`;
}

export function formatError(error: ErrorInfo): string {
  const lines = [`error (${error.cause}): ${error.message}`];
  if (error.details && Object.keys(error.details).length > 0) lines.push(`  details: ${JSON.stringify(error.details)}`);
  if (error.hint) lines.push(`  try: ${error.hint}`);
  if (error.logFile) lines.push(`  log: ${error.logFile}`);
  return lines.join('\n');
}

/** In a job that writes several cards, the card a line is about. */
function cardPrefix(event: { card?: string | undefined }): string {
  return event.card === undefined ? '' : `${event.card}: `;
}

/** Human output on stderr: progress bars redrawn in place on a TTY, one line per phase otherwise. */
export function humanRenderer(stream: NodeJS.WriteStream = process.stderr, verbose = false): Renderer {
  const tty = stream.isTTY === true;
  let barShown = false;
  const clearBar = (): void => {
    if (barShown) stream.write('\r\x1b[2K');
    barShown = false;
  };
  return {
    onEvent(event) {
      switch (event.type) {
        case 'progress':
          if (tty) {
            stream.write(`\r\x1b[2K${cardPrefix(event)}${progressLine(event.phase, event.bytesDone, event.bytesTotal, event.bytesPerSecond, event.etaSeconds, event.limitedBy)}`);
            barShown = true;
          }
          return;
        case 'phase':
          clearBar();
          if (event.state !== 'start' || verbose || !tty) stream.write(`${cardPrefix(event)}${event.phase}: ${event.state}${event.detail ? ` (${event.detail})` : ''}\n`);
          return;
        case 'log':
          if (event.level === 'debug' && !verbose) return;
          clearBar();
          stream.write(`${cardPrefix(event)}${event.level === 'info' ? '' : `${event.level}: `}${event.message}\n`);
          return;
        case 'error':
          clearBar();
          stream.write(`${formatError(event.error)}\n`);
          return;
        case 'result':
          clearBar();
          return;
      }
    },
    close: clearBar,
  };
}
