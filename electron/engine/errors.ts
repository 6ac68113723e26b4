/**
 * Classified errors. Every failure that reaches a person (CLI, GUI, worker protocol) is one of a
 * small set of causes with a plain message, an optional hint of what to try, and details
 * (byte offsets, paths, sizes). OS error codes are mapped to causes here, before they leave the
 * engine, so the GUI never has to interpret errno.
 */
import { z } from 'zod';

export const ERROR_CAUSES = [
  'bad-input',
  'unknown-board',
  'overlap',
  'too-small',
  'permission',
  'busy',
  'device-gone',
  'unsafe-target',
  'io',
  'source-corrupt',
  'checksum-mismatch',
  'network',
  'no-space',
  'cancelled',
  'not-implemented',
  'internal',
] as const;

export const ErrorCauseSchema = z.enum(ERROR_CAUSES);
export type ErrorCause = z.infer<typeof ErrorCauseSchema>;

export const ErrorInfoSchema = z.object({
  cause: ErrorCauseSchema,
  message: z.string(),
  hint: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
  logFile: z.string().optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

/** What a person can try for each cause when the thrower had nothing more specific to say. */
const DEFAULT_HINTS: Record<ErrorCause, string> = {
  'bad-input': 'Check the command line or the file you chose.',
  'unknown-board': 'Run `cardsmith boards` to see the board ids.',
  overlap: 'Choose a layout whose partitions start after the board loader area.',
  'too-small': 'Use a larger card or a smaller image.',
  permission: 'Run the privileged writer (the app asks for it), or use sudo for the CLI.',
  busy: 'Close programs using the card and unmount it, then try again.',
  'device-gone': 'Reinsert the card and choose it again.',
  'unsafe-target': 'Choose a removable card; system drives are never written.',
  io: 'The card or reader failed. Try another reader or card.',
  'source-corrupt': 'Download the image again; the file is damaged.',
  'checksum-mismatch': 'The data is not what was expected. Download again or use another card.',
  network: 'Check the connection; the download resumes where it stopped.',
  'no-space': 'Free disk space on the destination and try again.',
  cancelled: 'Start again when ready.',
  'not-implemented': 'This command is not implemented yet.',
  internal: 'This is a bug in Cardsmith; please attach the log to a report.',
};

export class CardsmithError extends Error {
  readonly info: ErrorInfo;

  constructor(cause: ErrorCause, message: string, details?: Record<string, unknown>, hint?: string) {
    super(message);
    this.name = 'CardsmithError';
    this.info = { cause, message, hint: hint ?? DEFAULT_HINTS[cause], ...(details ? { details } : {}) };
  }
}

const ERRNO_CAUSES: Record<string, ErrorCause> = {
  EACCES: 'permission',
  EPERM: 'permission',
  EBUSY: 'busy',
  ENOENT: 'device-gone',
  ENXIO: 'device-gone',
  ENODEV: 'device-gone',
  EIO: 'io',
  ENOSPC: 'no-space',
  EROFS: 'permission',
  ECONNRESET: 'network',
  ECONNREFUSED: 'network',
  ETIMEDOUT: 'network',
  ENOTFOUND: 'network',
};

/** Turns anything thrown into an ErrorInfo a person can read. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof CardsmithError) return error.info;
  if (error instanceof z.ZodError) {
    const problems = error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    return { cause: 'bad-input', message: `Invalid request: ${problems.join('; ')}`, hint: DEFAULT_HINTS['bad-input'] };
  }
  if (error instanceof Error) {
    const code = (error as NodeJSLikeError).code;
    const cause = (code && ERRNO_CAUSES[code]) || 'internal';
    const details: Record<string, unknown> = {};
    if (code) details.code = code;
    const path = (error as NodeJSLikeError).path;
    if (path) details.path = path;
    return { cause, message: error.message, hint: DEFAULT_HINTS[cause], details };
  }
  return { cause: 'internal', message: String(error), hint: DEFAULT_HINTS.internal };
}

interface NodeJSLikeError {
  code?: string;
  path?: string;
}
