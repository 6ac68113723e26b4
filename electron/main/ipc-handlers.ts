/**
 * What the main process does with each renderer call, apart from Electron: ipc.ts passes in the
 * sender's frame and a way to reply, these functions check the sender (the app's own top-level
 * page only), validate the payload with the contract's schemas and act.
 *
 * Showing a file in the file manager is limited to files the app itself made known: anything
 * under its log folder, and the files finished or failed jobs reported (log, image, download), so
 * a page cannot use it to probe or reveal arbitrary paths.
 */
import { isAbsolute, normalize, sep } from 'node:path';
import { RequestSchema, type Envelope, type JobEvent } from '../engine/api';
import { CardsmithError, toErrorInfo } from '../engine/errors';
import { CancelPayloadSchema, JobIdSchema, ShowItemPayloadSchema } from './ipc-contract';
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
  showItemInFolder(frame: SenderFrame | null, payload: unknown): void;
}

/** What the handlers do outside this module: native dialogs and the file manager, and where logs go. */
export interface IpcEffects {
  readonly chooseFile: () => Promise<string | null>;
  readonly showItemInFolder: (path: string) => void;
  /** Absolute folder of the job logs; any file under it may be shown. */
  readonly logFolder: string;
}

const REPORTED_RESULT_FIELDS = ['logFile', 'output', 'bmap', 'path'] as const;

/** The local files a job's event names: a result's log, image and download, an error's log. */
function reportedFiles(event: JobEvent): readonly string[] {
  switch (event.type) {
    case 'result': {
      const result = typeof event.result === 'object' && event.result !== null ? (event.result as Record<string, unknown>) : {};
      return REPORTED_RESULT_FIELDS.map((field) => result[field]).filter((value): value is string => typeof value === 'string');
    }
    case 'error':
      return event.error.logFile === undefined ? [] : [event.error.logFile];
    case 'phase':
    case 'progress':
    case 'log':
      return [];
  }
}

export function createIpcHandlers(router: JobRouter, effects: IpcEffects): IpcHandlers {
  const reported = new Set<string>();
  const logFolder = normalize(effects.logFolder);
  const mayShow = (path: string): boolean => reported.has(path) || path.startsWith(logFolder.endsWith(sep) ? logFolder : logFolder + sep);
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
      void router.start(job, request.data, (event) => {
        for (const file of reportedFiles(event)) if (isAbsolute(file)) reported.add(normalize(file));
        send({ job, event });
      });
    },
    cancel(frame, payload) {
      assertTrustedSender(frame);
      router.cancel(CancelPayloadSchema.parse(payload).job);
    },
    async chooseImageFile(frame) {
      assertTrustedSender(frame);
      return effects.chooseFile();
    },
    showItemInFolder(frame, payload) {
      assertTrustedSender(frame);
      const { path } = ShowItemPayloadSchema.parse(payload);
      if (!isAbsolute(path) || normalize(path) !== path || !mayShow(path)) {
        throw new CardsmithError('bad-input', `Only the app's logs and files a job reported can be shown; ${path} is neither`, { path, logFolder });
      }
      effects.showItemInFolder(path);
    },
  };
}
