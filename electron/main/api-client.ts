/**
 * The renderer-facing half of the contract: builds the `window.cardsmith` object (CardsmithApi)
 * over a minimal IPC transport. The preload wires it to ipcRenderer; tests wire it to anything.
 * Everything that arrives from the main process is validated here before the page sees it.
 */
import { EnvelopeSchema, parseResult, type CardsmithApi, type Envelope, type JobEvent, type Op, type RequestInput, type ResultOf } from '../engine/api';
import type { ErrorInfo } from '../engine/errors';
import { ChosenFileSchema, IPC_CHANNELS } from './ipc-contract';

export interface IpcTransport {
  invoke(channel: string, payload?: unknown): Promise<unknown>;
  /** Subscribes to main → renderer events; returns the unsubscribe function. */
  onEvent(listener: (payload: unknown) => void): () => void;
}

/**
 * How a failed job rejects. A plain object on purpose: contextBridge copies an Error without its
 * own properties, so `info` would be lost on the way to the page.
 */
export interface CardsmithFailure {
  readonly name: 'CardsmithError';
  readonly message: string;
  readonly info: ErrorInfo;
}

export function failure(info: ErrorInfo): CardsmithFailure {
  return { name: 'CardsmithError', message: info.message, info };
}

interface Listener {
  readonly op: Op;
  readonly onEvent?: (event: JobEvent) => void;
  readonly resolve: (result: unknown) => void;
  readonly reject: (reason: CardsmithFailure) => void;
}

/**
 * `pathForFile` answers for a File dropped on the page: only the preload can know its path
 * (Electron's webUtils), so it is passed in rather than sent over IPC.
 */
export function createCardsmithApi(
  transport: IpcTransport,
  platform: string,
  newJobId: () => string,
  pathForFile: (file: File) => string,
): CardsmithApi {
  const listeners = new Map<string, Listener>();

  const deliver = ({ job, event }: Envelope): void => {
    const listener = listeners.get(job);
    if (!listener) return;
    if (event.type === 'result') {
      listeners.delete(job);
      let result: unknown;
      try {
        result = parseResult(listener.op, event.result);
      } catch {
        const info: ErrorInfo = { cause: 'internal', message: `The ${listener.op} result does not match the contract` };
        listener.onEvent?.({ type: 'error', error: info });
        listener.reject(failure(info));
        return;
      }
      listener.onEvent?.({ ...event, result });
      listener.resolve(result);
      return;
    }
    listener.onEvent?.(event);
    if (event.type === 'error') {
      listeners.delete(job);
      listener.reject(failure(event.error));
    }
  };

  transport.onEvent((payload) => {
    const envelope = EnvelopeSchema.safeParse(payload);
    if (envelope.success) deliver(envelope.data);
  });

  const invokeFailure = (error: unknown): CardsmithFailure => {
    const message = error instanceof Error ? error.message : String(error);
    return failure({ cause: 'internal', message });
  };

  return {
    run<O extends Op>(request: Extract<RequestInput, { op: O }>, onEvent?: (event: JobEvent) => void, job?: string) {
      const id = job ?? newJobId();
      return new Promise<ResultOf<O>>((resolve, reject) => {
        if (listeners.has(id)) {
          reject(failure({ cause: 'bad-input', message: `job ${id} is already running` }));
          return;
        }
        // Listen before asking: the first events may arrive before invoke resolves.
        listeners.set(id, { op: request.op, onEvent, resolve: resolve as (result: unknown) => void, reject });
        transport.invoke(IPC_CHANNELS.run, { job: id, request }).catch((error: unknown) => {
          if (listeners.delete(id)) reject(invokeFailure(error));
        });
      });
    },
    async cancel(job) {
      await transport.invoke(IPC_CHANNELS.cancel, { job });
    },
    async chooseImageFile() {
      return ChosenFileSchema.parse(await transport.invoke(IPC_CHANNELS.chooseImageFile));
    },
    async showItemInFolder(path) {
      await transport.invoke(IPC_CHANNELS.showItemInFolder, { path });
    },
    pathForFile,
    platform,
  };
}
