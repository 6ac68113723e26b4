/**
 * The privileged worker's rules, apart from its I/O. A line from the parent becomes a command or
 * a protocol error; a start command passes the worker's own policy or is refused: only the
 * operations that need privilege (and listing drives, to re-check them) are served, loop devices
 * only when the worker itself was started for development, and one job per device at a time.
 * Nothing the parent says widens what the worker will write.
 */
import { PRIVILEGED_OPS, WorkerCommandSchema, type Op, type Request, type WorkerCommand } from '../api';
import { toErrorInfo, type ErrorInfo } from '../errors';

/** Longest command line accepted; anything longer is dropped unread. */
export const MAX_LINE_BYTES = 1 << 20;

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

const SERVED: ReadonlySet<Op> = new Set<Op>([...PRIVILEGED_OPS, 'listDrives']);

/** The device a request writes or reads, for the one-job-per-device rule. */
export function targetOf(request: Request): string | null {
  switch (request.op) {
    case 'flash':
    case 'verify':
      return request.device;
    case 'installLoader':
      return request.target;
    default:
      return null;
  }
}

/** Why the worker will not start this request, or null when it will. */
export function refusal(request: Request, policy: WorkerPolicy, busyTargets: ReadonlySet<string>): ErrorInfo | null {
  if (!SERVED.has(request.op)) {
    return { cause: 'bad-input', message: `The privileged worker does not run "${request.op}"; the app runs it unprivileged` };
  }
  const wantsLoop = (request.op === 'listDrives' && request.includeLoop) || ('allowLoop' in request && request.allowLoop);
  if (wantsLoop && !policy.allowLoop) {
    return { cause: 'unsafe-target', message: 'Loop devices are offered only by a worker started with --allow-loop (development)' };
  }
  const target = targetOf(request);
  if (target !== null && busyTargets.has(target)) return { cause: 'busy', message: `${target} is already being written or verified by another job` };
  return null;
}
