/**
 * The renderer's only door to the engine: a typed wrapper over `window.cardsmith` (built by the
 * preload in the app, imitated by the test bridge in e2e). Every call resolves with an Outcome —
 * a result or a classified ErrorInfo — so pages never handle raw rejections, and a missing
 * bridge shows up as a readable error instead of a crash.
 */
import type { CardsmithApi, JobEvent, Op, RequestInput, ResultOf, SourceSettings } from '../../../electron/engine/api';
import type { ErrorInfo } from '../../../electron/engine/errors';
import { isErrorCause } from '../../../electron/engine/shared/pure';
import { appError } from '../i18n/translate';

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ErrorInfo };

export type RequestFor<O extends Op> = Extract<RequestInput, { op: O }>;

export interface CardsmithClient {
  run<O extends Op>(request: RequestFor<O>, onEvent?: (event: JobEvent) => void, job?: string): Promise<Outcome<ResultOf<O>>>;
  cancel(job: string): Promise<void>;
  chooseImageFile(): Promise<Outcome<string | null>>;
  showItemInFolder(path: string): Promise<Outcome<void>>;
  /** The local path of a dropped File, or null when it has none (or no engine is connected). */
  pathForFile(file: File): string | null;
  newJobId(prefix: string): string;
  /** The OS the engine runs on (`process.platform`), '' when no engine is connected. */
  readonly platform: string;
}

export { isErrorCause };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function asErrorInfo(value: unknown): ErrorInfo | null {
  if (!isRecord(value) || !isErrorCause(value.cause) || typeof value.message !== 'string') return null;
  return {
    cause: value.cause,
    message: value.message,
    ...(typeof value.hint === 'string' ? { hint: value.hint } : {}),
    ...(isRecord(value.details) ? { details: value.details } : {}),
    ...(typeof value.logFile === 'string' ? { logFile: value.logFile } : {}),
    ...keyed(value, 'key', 'params'),
    ...keyed(value, 'hintKey', 'hintParams'),
    ...(Array.isArray(value.notes) ? { notes: value.notes.flatMap((note) => (isRecord(note) && typeof note.key === 'string' ? [{ key: note.key, params: paramsOf(note.params) }] : [])) } : {}),
  };
}

function paramsOf(value: unknown): Record<string, string | number> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string | number] => typeof entry[1] === 'string' || typeof entry[1] === 'number'));
}

/** The message keys an ErrorInfo carries (errors.ts), kept so the panel can translate them. */
function keyed(value: Record<string, unknown>, key: 'key' | 'hintKey', params: 'params' | 'hintParams'): Partial<ErrorInfo> {
  return typeof value[key] === 'string' ? { [key]: value[key], [params]: paramsOf(value[params]) } : {};
}

/**
 * Reads the ErrorInfo out of whatever `window.cardsmith` rejected with: an Error carrying
 * `.info`, a bare ErrorInfo, or (across some IPC layers) an Error whose message is its JSON.
 */
export function errorInfoFrom(thrown: unknown): ErrorInfo {
  const direct = asErrorInfo(thrown) ?? (isRecord(thrown) ? asErrorInfo(thrown.info) : null);
  if (direct) return direct;
  if (thrown instanceof Error) {
    try {
      const parsed = asErrorInfo(JSON.parse(thrown.message));
      if (parsed) return parsed;
    } catch {
      // the message is plain text, not an encoded ErrorInfo
    }
    return { cause: 'internal', message: thrown.message };
  }
  return { cause: 'internal', message: String(thrown) };
}

const DISCONNECTED: ErrorInfo = { ...appError('internal', 'error.app.disconnected'), details: { missing: 'window.cardsmith' } };

export function createClient(api: CardsmithApi | undefined): CardsmithClient {
  let counter = 0;
  return {
    platform: api?.platform ?? '',
    async run<O extends Op>(request: RequestFor<O>, onEvent?: (event: JobEvent) => void, job?: string) {
      if (!api) return { ok: false, error: DISCONNECTED } as const;
      try {
        const value = await api.run<O>(request, onEvent, job);
        return { ok: true, value } as const;
      } catch (thrown) {
        return { ok: false, error: errorInfoFrom(thrown) } as const;
      }
    },
    async cancel(job) {
      await api?.cancel(job);
    },
    async chooseImageFile() {
      if (!api) return { ok: false, error: DISCONNECTED } as const;
      try {
        return { ok: true, value: await api.chooseImageFile() } as const;
      } catch (thrown) {
        return { ok: false, error: errorInfoFrom(thrown) } as const;
      }
    },
    async showItemInFolder(path) {
      if (!api) return { ok: false, error: DISCONNECTED } as const;
      try {
        await api.showItemInFolder(path);
        return { ok: true, value: undefined } as const;
      } catch (thrown) {
        return { ok: false, error: errorInfoFrom(thrown) } as const;
      }
    },
    pathForFile(file) {
      return api?.pathForFile(file) || null;
    },
    newJobId(prefix) {
      counter += 1;
      return `${prefix}-${Date.now().toString(36)}-${counter}`.slice(0, 64);
    },
  };
}

/** The operations that read sources or the cache (presets live there too), and so take the Settings' source settings. */
const SETTINGS_OPS: ReadonlySet<Op> = new Set<Op>(['inspect', 'catalog', 'build', 'planBuild', 'fetch', 'flash', 'flashMany', 'verify', 'presets']);

/**
 * A client that adds the current source settings (cache folder and limit, catalog URLs) to every
 * request that takes them, read at call time so a change in Settings applies to the next job.
 */
export function withSourceSettings(client: CardsmithClient, current: () => SourceSettings): CardsmithClient {
  return {
    ...client,
    run<O extends Op>(request: RequestFor<O>, onEvent?: (event: JobEvent) => void, job?: string) {
      const withSettings = SETTINGS_OPS.has(request.op) ? ({ ...request, settings: current() } as RequestFor<O>) : request;
      return client.run(withSettings, onEvent, job);
    },
  };
}

declare global {
  interface Window {
    cardsmith?: CardsmithApi;
  }
}
