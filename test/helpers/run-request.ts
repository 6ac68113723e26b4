/** Runs one request in this process, as the CLI does, keeping every event for assertions. */
import type { JobEvent, RequestInput } from '../../electron/engine/api';
import type { ErrorInfo } from '../../electron/engine/errors';
import { runRequest } from '../../electron/engine/operations';

export interface RunOutcome {
  readonly result: unknown;
  /** The job's error event, if it ended with one. */
  readonly error: ErrorInfo | undefined;
  readonly events: JobEvent[];
}

/** `onEvent` sees each event as it comes, with a way to cancel the job. */
export async function runCollecting(request: RequestInput, onEvent?: (event: JobEvent, abort: () => void) => void): Promise<RunOutcome> {
  const controller = new AbortController();
  const events: JobEvent[] = [];
  const result = await runRequest(
    request,
    (event) => {
      events.push(event);
      onEvent?.(event, () => controller.abort());
    },
    controller.signal,
  );
  const failure = events.find((e): e is Extract<JobEvent, { type: 'error' }> => e.type === 'error');
  return { result, error: failure?.error, events };
}
