/**
 * The privileged worker's rules, apart from its I/O. A line from the parent becomes a command or
 * a protocol error; a start command passes the worker's own policy or is refused: only requests
 * that open a card (and listing drives) are served, loop devices only when the worker itself was
 * started for development, and one job per device (by device number) at a time. Nothing the
 * parent says widens what the worker will open.
 */
import { cardOf, WorkerCommandSchema, type Op, type Request, type WorkerCommand } from '../api';
import { toErrorInfo, type ErrorInfo } from '../errors';

export type ParsedLine = { readonly kind: 'command'; readonly command: WorkerCommand } | { readonly kind: 'invalid'; readonly error: ErrorInfo };

export function parseCommandLine(line: string): ParsedLine {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return { kind: 'invalid', error: { cause: 'bad-input', message: `Not JSON: ${(error as Error).message}` } };
  }
  const command = WorkerCommandSchema.safeParse(json);
  if (!command.success) return { kind: 'invalid', error: toErrorInfo(command.error) };
  return { kind: 'command', command: command.data };
}

export interface WorkerPolicy {
  /** The worker was started with --allow-loop (development only). */
  readonly allowLoop: boolean;
}

const SERVED: ReadonlySet<Op> = new Set<Op>(['flash', 'flashMany', 'verify', 'installLoader', 'listDrives', 'check']);

/** Why the worker will not start this request, or null when it will. */
export function refusal(request: Request, policy: WorkerPolicy): ErrorInfo | null {
  if (!SERVED.has(request.op)) {
    return { cause: 'bad-input', message: `The privileged worker does not run "${request.op}"; the app runs it unprivileged` };
  }
  if (request.op === 'installLoader' && cardOf(request) === null) {
    return { cause: 'bad-input', message: `The privileged worker writes loaders to cards under /dev only; the app writes ${request.target} itself` };
  }
  const wantsLoop = (request.op === 'listDrives' && request.includeLoop) || ('allowLoop' in request && request.allowLoop);
  if (wantsLoop && !policy.allowLoop) {
    return { cause: 'unsafe-target', message: 'Loop devices are offered only by a worker started with --allow-loop (development)' };
  }
  return null;
}

/** How the card of a request is opened: flash, loader installs and checks write it, verify only reads. */
export function cardMode(request: Request): 'write' | 'read' {
  return request.op === 'verify' ? 'read' : 'write';
}
