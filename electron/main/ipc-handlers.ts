/**
 * What the main process does with each renderer call, apart from Electron: ipc.ts passes in the
 * sender's frame and a way to reply, these functions check the sender (the app's own top-level
 * page only), validate the payload with the contract's schemas and act.
 */
import { RequestSchema, type Envelope } from '../engine/api';
import { toErrorInfo } from '../engine/errors';
import { CancelPayloadSchema, JobIdSchema } from './ipc-contract';
import type { JobRouter } from './jobs';
import { isAppUrl } from './security';

export interface SenderFrame {
  readonly url: string;
  readonly isTopLevel: boolean;
}

export class UntrustedSenderError extends Error {
  constructor(url: string | undefined) {
    super(`IPC refused: the sender is not the Cardsmith page (${url ?? 'no frame'})`);
    this.name = 'UntrustedSenderError';
  }
}

export function assertTrustedSender(frame: SenderFrame | null): void {
  if (frame === null || !frame.isTopLevel || !isAppUrl(frame.url)) throw new UntrustedSenderError(frame?.url);
}

export interface IpcHandlers {
  /** Starts a job; its events go to `send`. Returns once the job has started. */
  run(frame: SenderFrame | null, payload: unknown, send: (envelope: Envelope) => void): void;
  cancel(frame: SenderFrame | null, payload: unknown): void;
  chooseImageFile(frame: SenderFrame | null): Promise<string | null>;
}

export function createIpcHandlers(router: JobRouter, chooseFile: () => Promise<string | null>): IpcHandlers {
  return {
    run(frame, payload, send) {
      assertTrustedSender(frame);
      const fields = typeof payload === 'object' && payload !== null ? (payload as { job?: unknown; request?: unknown }) : {};
      const job = JobIdSchema.parse(fields.job);
      const request = RequestSchema.safeParse(fields.request);
      if (!request.success) {
        send({ job, event: { type: 'error', error: toErrorInfo(request.error) } });
        return;
      }
      void router.start(job, request.data, (event) => send({ job, event }));
    },
    cancel(frame, payload) {
      assertTrustedSender(frame);
      router.cancel(CancelPayloadSchema.parse(payload).job);
    },
    async chooseImageFile(frame) {
      assertTrustedSender(frame);
      return chooseFile();
    },
  };
}
