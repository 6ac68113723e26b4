/**
 * The engine's single entry point: one handler per contract operation. The CLI, the Electron main
 * process, the privileged worker and the test bridge all call `runRequest`; none of them
 * implements an operation itself.
 */
import { parseResult, RequestSchema, type JobEvent, type Op, type Request, type RequestInput, type ResultOf } from './api';
import { toErrorInfo } from './errors';
import { createJobContext, type JobContext } from './job';
import { runCatalog, runFetch } from './sources/source-operations';
import { withSourceSettings } from './sources/source-settings';
import { listBoards } from './boards/db';
import { inspectSource } from './boards/inspect';
import { installLoader } from './boards/install';
import { scanDrives } from './drives/scan';
import { flash, verify } from './flash/flash';
import { buildImage, settingsFromEnv } from './build/compose';

type Handler<O extends Op> = (request: Extract<Request, { op: O }>, ctx: JobContext) => Promise<ResultOf<O>>;
type Handlers = { [O in Op]: Handler<O> };

const handlers: Handlers = {
  listBoards: async () => ({ boards: [...listBoards()] }),
  listDrives: async (request) => ({ drives: await scanDrives({ all: request.all, allowLoop: request.includeLoop }) }),
  inspect: (request, ctx) => withSourceSettings(request.settings, () => inspectSource(request.target, ctx)),
  catalog: (request, ctx) => withSourceSettings(request.settings, () => runCatalog(request, ctx)),
  build: (request, ctx) => withSourceSettings(request.settings, () => buildImage(request.recipe, ctx, settingsFromEnv(process.env, request.recipe))),
  fetch: (request, ctx) => withSourceSettings(request.settings, () => runFetch(request, ctx)),
  flash: (request, ctx) => withSourceSettings(request.settings, () => flash(request, ctx)),
  verify: (request, ctx) => withSourceSettings(request.settings, () => verify(request, ctx)),
  installLoader: async (request, ctx) => installLoader(request, ctx),
};

/**
 * Validates the request, runs its handler and reports through `emit`; always ends with exactly
 * one `result` or `error` event. Resolves with the result, or undefined after an error.
 */
export async function runRequest<O extends Op>(
  input: Extract<RequestInput, { op: O }> | unknown,
  emit: (event: JobEvent) => void,
  signal: AbortSignal = new AbortController().signal,
): Promise<ResultOf<O> | undefined> {
  try {
    const request = RequestSchema.parse(input) as Extract<Request, { op: O }>;
    const ctx = createJobContext(emit, signal);
    const handler = handlers[request.op] as Handler<O>;
    const result = parseResult(request.op, await handler(request, ctx));
    emit({ type: 'result', op: request.op, result });
    return result;
  } catch (error) {
    emit({ type: 'error', error: toErrorInfo(error) });
    return undefined;
  }
}
