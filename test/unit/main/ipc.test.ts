/**
 * The renderer ↔ main path without Electron: the preload's api-client talks to the main
 * process's handlers through a loopback that structured-clones every message (as Electron's IPC
 * does); behind the handlers run the real job router, a real job host process (the engine) and
 * a real worker process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ResultSchemas, type Envelope, type JobEvent, type Request } from '../../../electron/engine/api';
import { createCardsmithApi, type CardsmithFailure } from '../../../electron/main/api-client';
import { IPC_CHANNELS } from '../../../electron/main/ipc-contract';
import { createIpcHandlers, type SenderFrame } from '../../../electron/main/ipc-handlers';
import { JobHostClient } from '../../../electron/main/job-host-client';
import { JobRouter, type JobRunner, type PrivilegedWorker } from '../../../electron/main/jobs';
import { APP_ENTRY_URL } from '../../../electron/main/security';
import { PrivilegedWorkerSource } from '../../../electron/main/worker-launcher';
import { buildJobHost, forkHost } from './job-host-bin';
import { buildWorkerBin, unelevatedPlan } from './worker-bin';

const APP_FRAME: SenderFrame = { url: APP_ENTRY_URL, isTopLevel: true };

const LOG_FOLDER = '/var/log/cardsmith-test';

/** For routers whose tests send no unprivileged job. */
const NO_HOST: JobRunner = {
  run: () => Promise.reject(new Error('no unprivileged job expected')),
  cancel: () => undefined,
};

function loopback(router: JobRouter, frame: SenderFrame, chooseFile: () => Promise<string | null> = async () => null, shown: string[] = []) {
  const handlers = createIpcHandlers(router, { chooseFile, showItemInFolder: (path) => void shown.push(path), logFolder: LOG_FOLDER });
  const listeners = new Set<(payload: unknown) => void>();
  const send = (envelope: Envelope): void => {
    for (const listener of listeners) listener(structuredClone(envelope));
  };
  let ids = 0;
  return createCardsmithApi(
    {
      async invoke(channel, payload) {
        const copy = structuredClone(payload);
        switch (channel) {
          case IPC_CHANNELS.run:
            return handlers.run(frame, copy, send);
          case IPC_CHANNELS.cancel:
            return handlers.cancel(frame, copy);
          case IPC_CHANNELS.chooseImageFile:
            return structuredClone(await handlers.chooseImageFile(frame));
          case IPC_CHANNELS.showItemInFolder:
            return handlers.showItemInFolder(frame, copy);
          default:
            throw new Error(`no handler for ${channel}`);
        }
      },
      onEvent(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    'linux',
    () => `test-${(ids += 1)}`,
    (file) => `/dropped/${file.name}`,
  );
}

async function failureOf(promise: Promise<unknown>): Promise<CardsmithFailure> {
  try {
    await promise;
  } catch (error) {
    return error as CardsmithFailure;
  }
  throw new Error('expected the job to fail');
}

describe('window.cardsmith over the main-process handlers', () => {
  let bin: string;
  const workerRuns: Request['op'][] = [];
  const hostRuns: Request['op'][] = [];
  let source: PrivilegedWorkerSource;
  let host: JobHostClient;
  let router: JobRouter;

  beforeAll(async () => {
    bin = await buildWorkerBin('ipc');
    source = new PrivilegedWorkerSource(async () => unelevatedPlan(bin));
    const bundle = await buildJobHost('ipc');
    host = new JobHostClient(() => forkHost(bundle).host);
    router = new JobRouter({
      jobHost: {
        run(job, request, onEvent) {
          hostRuns.push(request.op);
          return host.run(job, request, onEvent);
        },
        cancel: (job) => host.cancel(job),
      },
      async privilegedWorker(): Promise<PrivilegedWorker> {
        const worker = await source.get();
        return {
          run(job, request, onEvent) {
            workerRuns.push(request.op);
            return worker.run(job, request, onEvent);
          },
          cancel: (job) => worker.cancel(job),
        };
      },
    });
    return async () => {
      await source.shutdown();
      await host.shutdown();
    };
  }, 60_000);

  it('runs a reading operation in the job host process and resolves with a contract result', async () => {
    const api = loopback(router, APP_FRAME);
    const events: JobEvent[] = [];
    const result = await api.run({ op: 'listBoards' }, (event) => events.push(event));
    expect(ResultSchemas.listBoards.parse(result).boards.length).toBeGreaterThan(0);
    expect(events.at(-1)?.type).toBe('result');
    expect(hostRuns).toEqual(['listBoards']);
    expect(workerRuns).toEqual([]);
  });

  it('rejects with the classified error and its details', async () => {
    const api = loopback(router, APP_FRAME);
    const failure = await failureOf(api.run({ op: 'inspect', target: '/nonexistent/card.img' }));
    expect(failure).toMatchObject({ name: 'CardsmithError', info: { cause: 'bad-input', details: { ref: '/nonexistent/card.img' } } });
  });

  it('sends device operations to the privileged worker process, and a loader install onto an image file to the app', async () => {
    const api = loopback(router, APP_FRAME);
    const events: JobEvent[] = [];
    await failureOf(api.run({ op: 'installLoader', board: 'orangepi-pc', target: '/nonexistent/card.img' }));
    expect(workerRuns).toEqual([]);
    expect(hostRuns.at(-1)).toBe('installLoader');
    const failure = await failureOf(api.run({ op: 'installLoader', board: 'orangepi-pc', target: '/dev/nonexistent' }, (event) => events.push(event), 'loader-1'));
    expect(workerRuns).toEqual(['installLoader']);
    expect(failure.name).toBe('CardsmithError');
    expect(events.filter((event) => event.type === 'error')).toEqual([{ type: 'error', error: failure.info }]);
  });

  it('refuses a request that breaks the contract, on the receiving side', async () => {
    const api = loopback(router, APP_FRAME);
    const failure = await failureOf(api.run({ op: 'flash', device: '/dev/sdz' } as unknown as Parameters<typeof api.run>[0]));
    expect(failure.info).toMatchObject({ cause: 'bad-input', message: expect.stringContaining('source') });
  });

  it('refuses every call from a frame that is not the app page', async () => {
    for (const frame of [
      { url: 'file:///work/main/out/renderer/index.html', isTopLevel: true },
      { url: 'https://example.com/', isTopLevel: true },
      { url: APP_ENTRY_URL, isTopLevel: false },
    ]) {
      const api = loopback(router, frame, async () => '/etc/shadow');
      const failure = await failureOf(api.run({ op: 'listBoards' }));
      expect(failure.info.message).toMatch(/IPC refused/);
      await expect(api.chooseImageFile()).rejects.toThrow(/IPC refused/);
      await expect(api.cancel('x')).rejects.toThrow(/IPC refused/);
      await expect(api.showItemInFolder(`${LOG_FOLDER}/flash.log`)).rejects.toThrow(/IPC refused/);
    }
    expect(router.size).toBe(0);
  });

  it('passes the chosen image path through, or null when the dialog was cancelled', async () => {
    expect(await loopback(router, APP_FRAME, async () => '/home/me/armbian.img.xz').chooseImageFile()).toBe('/home/me/armbian.img.xz');
    expect(await loopback(router, APP_FRAME).chooseImageFile()).toBeNull();
  });

  it('shows files under the log folder and files a job reported, and nothing else', async () => {
    const shown: string[] = [];
    const api = loopback(router, APP_FRAME, undefined, shown);
    await api.showItemInFolder(`${LOG_FOLDER}/flash-sdz.log`);
    for (const path of ['/etc/shadow', `${LOG_FOLDER}/../../../etc/shadow`, `${LOG_FOLDER}-other/x.log`, 'flash.log', LOG_FOLDER]) {
      await expect(api.showItemInFolder(path)).rejects.toThrow(/Only the app's logs/);
    }

    const dir = mkdtempSync(join(tmpdir(), 'cardsmith-ipc-show-'));
    const server = createServer((_req, res) => res.end('image bytes'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const output = join(dir, 'download.img');
      await expect(api.showItemInFolder(output)).rejects.toThrow(/Only the app's logs/);
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/download.img`;
      const fetched = await api.run({ op: 'fetch', source: url, output, settings: { cacheDir: join(dir, 'cache') } });
      expect(fetched.path).toBe(output);
      await api.showItemInFolder(output);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
    expect(shown).toEqual([`${LOG_FOLDER}/flash-sdz.log`, join(dir, 'download.img')]);
  });

  it('answers pathForFile from the preload side without a round trip', () => {
    expect(loopback(router, APP_FRAME).pathForFile(new File(['x'], 'card.img'))).toBe('/dropped/card.img');
  });

  it('refuses a second job with the same id while the first runs', async () => {
    const api = loopback(router, APP_FRAME);
    const first = api.run({ op: 'listBoards' }, undefined, 'same');
    const second = failureOf(api.run({ op: 'listBoards' }, undefined, 'same'));
    expect((await second).info.message).toMatch(/already running/);
    await first;
  });
});

describe('cancelling a privileged job while the password prompt is open', () => {
  it('starts nothing and says so', async () => {
    let release: (worker: PrivilegedWorker) => void = () => undefined;
    const started: string[] = [];
    const router = new JobRouter({
      jobHost: NO_HOST,
      privilegedWorker: () =>
        new Promise<PrivilegedWorker>((resolve) => {
          release = resolve;
        }),
    });
    const events: JobEvent[] = [];
    const done = router.start('flash-1', { op: 'flash', source: 'a.img', device: '/dev/sdz', verify: true, eject: false, allowLoop: false }, (event) => events.push(event));
    router.cancel('flash-1');
    release({ run: async (job) => started.push(job), cancel: () => undefined });
    await done;
    expect(started).toEqual([]);
    expect(events).toEqual([expect.objectContaining({ type: 'error', error: expect.objectContaining({ cause: 'cancelled', message: expect.stringMatching(/nothing was written/) }) })]);
  });
});
