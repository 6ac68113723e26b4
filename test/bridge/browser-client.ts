/**
 * The test bridge's `window.cardsmith`, injected into the built renderer by test/bridge/server.ts.
 * Each job is one POST whose response is the job's NDJSON event stream; the terminal event
 * settles the promise (a `result` resolves, an `error` rejects with an Error carrying `.info`,
 * as the preload does). Bundled for the browser at bridge start; never shipped.
 *
 * `pathForFile` stands in for Electron's webUtils.getPathForFile: a page cannot learn a dropped
 * File's path, so the test registers one per file name (`__cardsmithBridge.setDroppedFilePath`,
 * through page.evaluate) and files it did not register have none (''), as in Electron.
 */
import type { CardsmithApi, JobEvent, Op, RequestInput, ResultOf } from '../../electron/engine/api';
import type { ErrorInfo } from '../../electron/engine/errors';

interface BridgeConfig {
  readonly platform?: string;
  setDroppedFilePath?: (name: string, path: string) => void;
}

/** The server serves this script under its token prefix, so relative URLs carry the token. */
const base = new URL('./', (document as unknown as { currentScript: { src: string } }).currentScript.src);
declare const document: unknown;
declare const window: { cardsmith?: CardsmithApi; __cardsmithBridge?: BridgeConfig };

const droppedFilePaths = new Map<string, string>();

class BridgeJobError extends Error {
  readonly info: ErrorInfo;
  constructor(info: ErrorInfo) {
    super(info.message);
    this.info = info;
  }
}

let counter = 0;

async function post(path: string, body: unknown): Promise<Response> {
  const response = await fetch(new URL(path, base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new BridgeJobError({ cause: 'internal', message: `bridge ${path}: HTTP ${response.status}` });
  return response;
}

async function run<O extends Op>(request: Extract<RequestInput, { op: O }>, onEvent?: (event: JobEvent) => void, job?: string): Promise<ResultOf<O>> {
  counter += 1;
  const id = job ?? `bridge-${Date.now().toString(36)}-${counter}`;
  const response = await post('run', { job: id, request });
  if (!response.body) throw new BridgeJobError({ cause: 'internal', message: 'bridge: empty response' });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffered += value;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
      if (!line) continue;
      const event = JSON.parse(line) as JobEvent;
      onEvent?.(event);
      if (event.type === 'result') return event.result as ResultOf<O>;
      if (event.type === 'error') throw new BridgeJobError(event.error);
    }
    if (done) throw new BridgeJobError({ cause: 'internal', message: 'bridge: the job ended without a result' });
  }
}

const api: CardsmithApi = {
  run,
  async cancel(job) {
    await post('cancel', { job });
  },
  async chooseImageFile() {
    const response = await post('choose-image-file', {});
    const body = (await response.json()) as { path: string | null };
    return body.path;
  },
  async showItemInFolder(path) {
    await post('show-item-in-folder', { path });
  },
  pathForFile: (file) => droppedFilePaths.get(file.name) ?? '',
  platform: window.__cardsmithBridge?.platform ?? 'linux',
};

window.cardsmith = api;
window.__cardsmithBridge = {
  ...window.__cardsmithBridge,
  setDroppedFilePath: (name, path) => void droppedFilePaths.set(name, path),
};
