/**
 * The engine's single entry point: one handler per contract operation. The CLI, the Electron main
 * process, the privileged worker and the test bridge all call `runRequest`; none of them
 * implements an operation itself.
 */
import { parseResult, RequestSchema, type JobEvent, type Op, type Request, type RequestInput, type ResultOf } from './api';
import { toErrorInfo } from './errors';
import type { CardAccess } from './flash/card';
import { createJobContext, type JobContext } from './job';
import { withSourceSettings } from './sources/source-settings';

export interface RunOptions {
  /** How device operations reach the card; by default this process checks and opens it. */
  readonly card?: CardAccess;
}

type Handler<O extends Op> = (request: Extract<Request, { op: O }>, ctx: JobContext, options: RunOptions) => Promise<ResultOf<O>>;
type Handlers = { [O in Op]: Handler<O> };

// Each handler loads its domain on first use, so a command pays start-up only for what it runs
// (the board database, ext4 and drive scanning stay unloaded for a flash, and so on).
const handlers: Handlers = {
  listBoards: async () => ({ boards: [...(await import('./boards/db')).listBoards()] }),
  listDrives: async (request) => ({ drives: await (await import('./drives/scan')).scanDrives({ all: request.all, allowLoop: request.includeLoop }) }),
  inspect: (request, ctx) =>
    withSourceSettings(request.settings, async () => {
      const plan = request.customise ? { settings: request.customise, ...(request.initFormat === undefined ? {} : { initFormat: request.initFormat }) } : undefined;
      return (await import('./boards/inspect')).inspectSource(request.target, ctx, plan);
    }),
  catalog: (request, ctx) => withSourceSettings(request.settings, async () => (await import('./sources/source-operations')).runCatalog(request, ctx)),
  build: (request, ctx) =>
    withSourceSettings(request.settings, async () => {
      const { buildImage, settingsFromEnv } = await import('./compose/compose');
      return buildImage(request.recipe, ctx, settingsFromEnv(process.env, request.recipe));
    }),
  planBuild: (request, ctx) =>
    withSourceSettings(request.settings, async () => {
      const { previewBuild, settingsFromEnv } = await import('./compose/compose');
      return previewBuild(request.recipe, ctx, settingsFromEnv(process.env, request.recipe));
    }),
  fetch: (request, ctx) => withSourceSettings(request.settings, async () => (await import('./sources/source-operations')).runFetch(request, ctx)),
  flash: (request, ctx, options) => withSourceSettings(request.settings, async () => (await import('./flash/flash')).flash(request, ctx, options.card)),
  flashMany: (request, ctx, options) => withSourceSettings(request.settings, async () => (await import('./flash/many')).flashMany(request, ctx, options.card)),
  verify: (request, ctx, options) => withSourceSettings(request.settings, async () => (await import('./flash/flash')).verify(request, ctx, options.card)),
  installLoader: async (request, ctx, options) => (await import('./boards/install')).installLoader(request, ctx, options.card),
  check: async (request, ctx, options) => (await import('./check/check')).checkCard(request, ctx, options.card),
  lastCheck: async (request) => ({ check: await (await import('./check/remember')).lastCheckOf(request.device) }),
  presets: (request) =>
    withSourceSettings(request.settings, async () => {
      const { loadPresets, removePreset, savePreset } = await import('./customise/presets');
      if (request.remove !== undefined) await removePreset(request.remove);
      return { presets: request.save ? await savePreset(request.save) : await loadPresets() };
    }),
};

/**
 * Validates the request, runs its handler and reports through `emit`; always ends with exactly
 * one `result` or `error` event. Resolves with the result, or undefined after an error.
 */
export async function runRequest<O extends Op>(
  input: Extract<RequestInput, { op: O }> | unknown,
  emit: (event: JobEvent) => void,
  signal: AbortSignal = new AbortController().signal,
  options: RunOptions = {},
): Promise<ResultOf<O> | undefined> {
  try {
    const request = RequestSchema.parse(input) as Extract<Request, { op: O }>;
    const ctx = createJobContext(emit, signal);
    const handler = handlers[request.op] as Handler<O>;
    const result = parseResult(request.op, await handler(request, ctx, options));
    emit({ type: 'result', op: request.op, result });
    return result;
  } catch (error) {
    emit({ type: 'error', error: toErrorInfo(error) });
    return undefined;
  }
}
