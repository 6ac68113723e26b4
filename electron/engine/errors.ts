/**
 * Classified errors. Every failure that reaches a person (CLI, GUI, worker protocol) is one of a
 * small set of causes with a plain message, an optional hint of what to try, and details
 * (byte offsets, paths, sizes). OS error codes are mapped to causes here, before they leave the
 * engine, so the GUI never has to interpret errno.
 */
import { z } from 'zod';
import { ERROR_CAUSES } from './shared/pure';
import { ENGINE_MESSAGES, english, MAX_PARAM_LENGTH, MAX_PARAMS, message as keyedMessage, type KeyedText, type Message, type MessageKey, type ParamsOf } from './messages';


export const ErrorCauseSchema = z.enum(ERROR_CAUSES);
export type ErrorCause = z.infer<typeof ErrorCauseSchema>;

/** A keyed message's params: strings and numbers only, few and short (they cross the worker pipe). */
export const MessageParamsSchema = z
  .record(z.string().max(64), z.union([z.string().max(MAX_PARAM_LENGTH), z.number()]))
  .refine((params) => Object.keys(params).length <= MAX_PARAMS, `at most ${MAX_PARAMS} params`);
const MessageKeySchema = z.string().min(1).max(128);
/** A keyed message on the wire (messages.ts): the receiver translates it or shows the English beside it. */
export const KeyedMessageSchema = z.object({ key: MessageKeySchema, params: MessageParamsSchema });

/**
 * `message` and `hint` are English (CLI, logs); `key`/`params` and `hintKey`/`hintParams` say the
 * same as message keys a front end translates (messages.ts), and `notes` are keyed sentences the
 * English message ends with (what the card holds after an interrupted write, why a drive is unsafe).
 */
export const ErrorInfoSchema = z.object({
  cause: ErrorCauseSchema,
  message: z.string(),
  hint: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
  logFile: z.string().optional(),
  key: MessageKeySchema.optional(),
  params: MessageParamsSchema.optional(),
  hintKey: MessageKeySchema.optional(),
  hintParams: MessageParamsSchema.optional(),
  notes: z.array(KeyedMessageSchema).max(8).optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

/** What a person can try for each cause when the thrower had nothing more specific to say. */
const defaultHint = (cause: ErrorCause): Message => ({ key: `hint.${cause}`, params: {} });
const DEFAULT_HINT_TEXT = (cause: ErrorCause): string => ENGINE_MESSAGES[`hint.${cause}`];

export class CardsmithError extends Error {
  readonly info: ErrorInfo;

  constructor(cause: ErrorCause, message: string, details?: Record<string, unknown>, hint?: string) {
    super(message);
    this.name = 'CardsmithError';
    const fallback = hint === undefined ? defaultHint(cause) : null;
    this.info = {
      cause,
      message,
      hint: hint ?? DEFAULT_HINT_TEXT(cause),
      ...(details ? { details } : {}),
      ...(fallback ? { hintKey: fallback.key, hintParams: fallback.params } : {}),
    };
  }

  /**
   * An error said as a message key: its English message is the key's template filled in, and a
   * front end translates key + params. `hint` (a keyed message) replaces the cause's default hint;
   * `notes` are keyed sentences appended to it.
   */
  static keyed<K extends MessageKey>(
    cause: ErrorCause,
    key: K,
    params: ParamsOf<K>,
    details?: Record<string, unknown>,
    more: { hint?: KeyedText; notes?: readonly KeyedText[] } = {},
  ): CardsmithError {
    const main = keyedMessage<MessageKey>(key, params as never);
    return CardsmithError.fromInfo({ cause, message: '', ...(details ? { details } : {}) }, main, more);
  }

  /** An ErrorInfo thrown again, keeping its keys; `main` re-says its message, `more` adds to it. */
  static fromInfo(info: ErrorInfo, main?: KeyedText, more: { hint?: KeyedText; notes?: readonly KeyedText[] } = {}): CardsmithError {
    const added = more.notes ?? [];
    const text = [main ? english(main) : info.message, ...added.map(english)].join('; ');
    const error = new CardsmithError(info.cause, text, info.details, more.hint ? english(more.hint) : info.hint);
    const keyedMain = main ?? (info.key !== undefined ? { key: info.key, params: info.params ?? {} } : null);
    const hint = more.hint ?? (info.hintKey !== undefined ? { key: info.hintKey, params: info.hintParams ?? {} } : null);
    const notes = [...(info.notes ?? []), ...added];
    if (keyedMain) Object.assign(error.info, { key: keyedMain.key, params: keyedMain.params });
    if (hint) Object.assign(error.info, { hintKey: hint.key, hintParams: hint.params });
    if (notes.length > 0) error.info.notes = notes;
    if (info.logFile !== undefined) error.info.logFile = info.logFile;
    return error;
  }
}

/**
 * Where an OS error happened decides what it means: ENOSPC is a full disk on a file but a card
 * smaller than the image on a device; ENOENT is a missing file, a removed card, or (from spawn) a
 * program that is not installed. Only socket errors are `network`, and only those are retried.
 */
export type OsErrorContext =
  | { readonly kind: 'file'; readonly path?: string; readonly action?: string }
  | { readonly kind: 'device'; readonly device: string; readonly action: string; readonly offset?: number; readonly length?: number }
  | { readonly kind: 'tool'; readonly tool: string }
  | { readonly kind: 'socket'; readonly url?: string };

const NETWORK_CODES = [
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'EPIPE',
  'EPROTO',
  'ERR_STREAM_PREMATURE_CLOSE',
] as const;

const LOCAL_CAUSES: Readonly<Record<string, ErrorCause>> = {
  EACCES: 'permission',
  EPERM: 'permission',
  EROFS: 'permission',
  EBUSY: 'busy',
  EIO: 'io',
  ENOSPC: 'no-space',
  EDQUOT: 'no-space',
  EFBIG: 'no-space',
};

/** The one errno table: each context's own meanings over the ones every local error shares. */
export const OS_ERROR_CAUSES: Readonly<Record<OsErrorContext['kind'], Readonly<Record<string, ErrorCause>>>> = {
  file: { ...LOCAL_CAUSES, ENOENT: 'bad-input', ENOTDIR: 'bad-input', EISDIR: 'bad-input', ENXIO: 'device-gone', ENODEV: 'device-gone', ENOMEDIUM: 'device-gone' },
  device: { ...LOCAL_CAUSES, ENOSPC: 'too-small', EFBIG: 'too-small', ENOENT: 'device-gone', ENXIO: 'device-gone', ENODEV: 'device-gone', ENOMEDIUM: 'device-gone' },
  tool: { ...LOCAL_CAUSES, ENOENT: 'missing-tool', EACCES: 'missing-tool', ENOEXEC: 'missing-tool' },
  socket: { ...Object.fromEntries(NETWORK_CODES.map((code) => [code, 'network' as const])), ENOSPC: 'no-space', EMFILE: 'io', ENFILE: 'io', ENOMEM: 'io' },
};

/** What a context's unlisted codes mean: a socket's failures are the network's, anything else is I/O. */
const UNLISTED: Readonly<Record<OsErrorContext['kind'], ErrorCause>> = { file: 'io', device: 'io', tool: 'internal', socket: 'network' };

export function osErrorCause(code: string | undefined, kind: OsErrorContext['kind']): ErrorCause {
  return (code !== undefined && OS_ERROR_CAUSES[kind][code]) || UNLISTED[kind];
}

/**
 * True for the failures worth another attempt: the socket's (errno codes of the network, TLS and
 * HTTP parser errors, OpenSSL's certificate codes), never a local disk's errno.
 */
export function isNetworkFailure(error: unknown): boolean {
  if (error instanceof CardsmithError) return error.info.cause === 'network';
  const code = (error as NodeJSLikeError | null)?.code;
  if (code === undefined || (NETWORK_CODES as readonly string[]).includes(code) || /^ERR_(TLS|SSL|HTTP)/.test(code)) return true;
  return !/^E[A-Z0-9_]+$/.test(code);
}

/** `code` is the errno code; `said` what Node said (host and port for a socket, the syscall). */
function describe(cause: ErrorCause, context: OsErrorContext, code: string, said: string, path: string | undefined): { message: Message; hint?: Message } {
  switch (context.kind) {
    case 'tool':
      if (cause === 'missing-tool') return { message: keyedMessage('os.toolMissing', { tool: context.tool, code }), hint: keyedMessage('os.toolMissingHint', { tool: context.tool }) };
      return { message: keyedMessage('os.toolFailed', { tool: context.tool, said }) };
    case 'socket':
      return { message: context.url ? keyedMessage('os.socketAt', { url: context.url, said }) : keyedMessage('os.socket', { said }) };
    case 'device': {
      const { device, action, offset } = context;
      const at = offset === undefined ? null : { device, action, offset, code };
      switch (cause) {
        case 'permission':
          return { message: keyedMessage('os.devicePermission', { action, device, code }) };
        case 'busy':
          return { message: keyedMessage('os.deviceBusy', { device, code }) };
        case 'device-gone':
          return { message: at ? keyedMessage('os.deviceGoneAt', at) : keyedMessage('os.deviceGone', { device, action, code }) };
        case 'too-small':
          return { message: at ? keyedMessage('os.deviceEndedAt', { device, offset: at.offset, code }) : keyedMessage('os.deviceEnded', { device, code }) };
        default:
          return { message: at ? keyedMessage('os.deviceIoAt', at) : keyedMessage('os.deviceIo', { action, device, code }) };
      }
    }
    case 'file': {
      const file = path ?? 'a file';
      const action = context.action ?? 'using';
      switch (cause) {
        case 'bad-input':
          return code === 'ENOENT'
            ? { message: keyedMessage('os.fileNotFound', { path: file, code }), hint: keyedMessage('os.fileNotFoundHint') }
            : { message: keyedMessage('os.notAFile', { path: file, code }), hint: keyedMessage('os.notAFileHint') };
        case 'permission':
          return { message: keyedMessage('os.filePermission', { action, path: file, code }) };
        case 'busy':
          return { message: keyedMessage('os.fileBusy', { path: file, code }) };
        case 'no-space':
          return { message: keyedMessage('os.noSpace', { action, path: file, code }) };
        case 'device-gone':
          return { message: keyedMessage('os.driveGone', { path: file, code }), hint: keyedMessage('os.driveGoneHint') };
        default:
          return { message: keyedMessage('os.fileIo', { action, path: file, said }) };
      }
    }
  }
}

/** Classifies an OS error (errno code) raised in `context` into a CardsmithError a person can read. */
export function classifyOsError(error: unknown, context: OsErrorContext): CardsmithError {
  if (error instanceof CardsmithError) return error;
  const node = (error ?? {}) as NodeJSLikeError;
  const cause = osErrorCause(node.code, context.kind);
  const said = error instanceof Error ? error.message : String(error);
  const code = node.code ?? said;
  const path = context.kind === 'file' ? (context.path ?? node.path) : undefined;
  const { message, hint } = describe(cause, context, code, said, path);
  const details: Record<string, unknown> = { ...(node.code ? { code: node.code } : {}) };
  if (context.kind === 'device') {
    details.device = context.device;
    if (context.offset !== undefined) details.offset = context.offset;
    if (context.length !== undefined) details.length = context.length;
  } else if (path) details.path = path;
  else if (context.kind === 'tool') details.tool = context.tool;
  else if (context.kind === 'socket' && context.url) details.url = context.url;
  return CardsmithError.fromInfo({ cause, message: '', details }, message, hint ? { hint } : {});
}

/** The context of an OS error nobody classified where it happened, read from what Node put on it. */
function contextOf(error: NodeJSLikeError): OsErrorContext {
  if (error.syscall?.startsWith('spawn')) return { kind: 'tool', tool: error.path ?? error.syscall.slice('spawn '.length) };
  if (error.code !== undefined && error.code !== 'EPIPE' && (NETWORK_CODES as readonly string[]).includes(error.code)) return { kind: 'socket' };
  return { kind: 'file', ...(error.path ? { path: error.path } : {}) };
}

/** Turns anything thrown into an ErrorInfo a person can read. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof CardsmithError) return error.info;
  if (error instanceof z.ZodError) {
    const problems = error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    return { cause: 'bad-input', message: `Invalid request: ${problems.join('; ')}`, hint: DEFAULT_HINT_TEXT('bad-input'), hintKey: 'hint.bad-input', hintParams: {} };
  }
  const code = (error as NodeJSLikeError | null)?.code;
  if (error instanceof Error && typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code) && !code.startsWith('ERR_')) {
    return classifyOsError(error, contextOf(error as NodeJSLikeError)).info;
  }
  if (error instanceof Error) return { cause: 'internal', message: error.message, hint: DEFAULT_HINT_TEXT('internal'), hintKey: 'hint.internal', hintParams: {} };
  return { cause: 'internal', message: String(error), hint: DEFAULT_HINT_TEXT('internal'), hintKey: 'hint.internal', hintParams: {} };
}

interface NodeJSLikeError {
  code?: string;
  path?: string;
  syscall?: string;
}
