/**
 * The job host (electron/main/job-host.ts) as the app runs it: the bundled entry in a process of
 * its own (forked under Node in place of Electron's utilityProcess.fork), driven by the main
 * process's JobHostClient over the envelope protocol. Real jobs: a build, its plan and an inspect
 * of what it wrote; a download from a slow server on 127.0.0.1, cancelled, and one whose host is
 * killed mid-way — that job ends with an error and the next job starts a new host — and a
 * shutdown that lets the running job end cancelled before the host exits.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventSchema, ResultSchemas, type JobEvent } from '../../../electron/engine/api';
import { JobHostClient } from '../../../electron/main/job-host-client';
import { fixturePath } from '../../helpers/fixtures';
import { describeWith } from '../../helpers/needs';
import { makeRootfs } from '../../integration/compose/fixture';
import { startTestServer, type TestServer } from '../../integration/sources/test-server';
import { buildJobHost, forkHost } from './job-host-bin';

const MiB = 1 << 20;
const ORANGEPI_LOADER = fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot/orangepi_plus');

function collector(onEvent?: (event: JobEvent) => void): { events: JobEvent[]; onEvent: (event: JobEvent) => void } {
  const events: JobEvent[] = [];
  return {
    events,
    onEvent: (event) => {
      events.push(EventSchema.parse(event));
      onEvent?.(event);
    },
  };
}

describe('the job host in a process of its own', () => {
  let bundle: string;
  let work: string;
  let server: TestServer;
  let slowUrl: string;
  const children: ChildProcess[] = [];
  let client: JobHostClient;

  beforeAll(async () => {
    bundle = await buildJobHost('job-host');
    work = mkdtempSync(join(tmpdir(), 'cardsmith-job-host-'));
    // 2 MiB at 128 KiB/s: a download that is still running when the test acts on it.
    server = await startTestServer({ bytesPerSecond: 128 * 1024 });
    slowUrl = server.add('/slow.img', Buffer.alloc(2 * MiB, 7));
    const env = { ...process.env, CARDSMITH_CACHE: join(work, 'cache'), CARDSMITH_LOG_DIR: join(work, 'logs') };
    client = new JobHostClient(() => {
      const { host, child } = forkHost(bundle, env);
      children.push(child);
      return host;
    });
  }, 60_000);

  afterAll(async () => {
    await client.shutdown();
    await server.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs a job in another process and hands back a result that validates', async () => {
    const { events, onEvent } = collector();
    const result = await client.run('boards', { op: 'listBoards' }, onEvent);
    expect(ResultSchemas.listBoards.parse(result).boards.length).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ type: 'result', op: 'listBoards' });
    expect(children).toHaveLength(1);
    expect(children[0]?.pid).not.toBe(process.pid);
    const inspect = collector();
    expect(await client.run('inspect-missing', { op: 'inspect', target: join(work, 'missing.img') }, inspect.onEvent)).toBeUndefined();
    expect(inspect.events).toEqual([expect.objectContaining({ type: 'error', error: expect.objectContaining({ cause: 'bad-input' }) })]);
  });

  it('refuses a card operation: those belong to the privileged worker', async () => {
    const { events, onEvent } = collector();
    await client.run('card', { op: 'flash', source: '/i.img', device: '/dev/sdz', verify: true, eject: false, allowLoop: false }, onEvent);
    expect(events).toEqual([{ type: 'error', error: expect.objectContaining({ cause: 'bad-input', message: expect.stringMatching(/privileged worker/) }) }]);
  });

  it('cancels a running download when asked', async () => {
    const { events, onEvent } = collector((event) => {
      if (event.type === 'progress') client.cancel('slow-cancel');
    });
    expect(await client.run('slow-cancel', { op: 'fetch', source: slowUrl }, onEvent)).toBeUndefined();
    expect(events.some((event) => event.type === 'progress')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { cause: 'cancelled' } });
    expect(children).toHaveLength(1);
  }, 30_000);

  it('ends the running job with an error when the host dies, and starts a new host for the next job', async () => {
    const { events, onEvent } = collector((event) => {
      if (event.type === 'progress') children.at(-1)?.kill('SIGKILL');
    });
    expect(await client.run('slow-crash', { op: 'fetch', source: slowUrl }, onEvent)).toBeUndefined();
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { cause: 'internal', message: expect.stringMatching(/job process stopped/) } });
    expect(events.filter((event) => event.type === 'error' || event.type === 'result')).toHaveLength(1);
    expect(client.running).toBe(false);

    const next = collector();
    expect(ResultSchemas.listBoards.parse(await client.run('after-crash', { op: 'listBoards' }, next.onEvent)).boards.length).toBeGreaterThan(0);
    expect(children).toHaveLength(2);
    expect(children[1]?.pid).not.toBe(children[0]?.pid);
  }, 30_000);

  it('on shutdown cancels its running job, lets it end, then exits', async () => {
    let stopping: Promise<void> | null = null;
    const { events, onEvent } = collector((event) => {
      if (event.type === 'progress') stopping ??= client.shutdown();
    });
    await client.run('slow-shutdown', { op: 'fetch', source: slowUrl }, onEvent);
    await stopping;
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { cause: 'cancelled' } });
    expect(client.running).toBe(false);
    expect(children.at(-1)?.exitCode).toBe(0);
  }, 30_000);
});

describeWith(['root', `file:${ORANGEPI_LOADER}`], 'a build through the job host', () => {
  let work: string;
  let client: JobHostClient;

  beforeAll(async () => {
    const bundle = await buildJobHost('job-host-build');
    work = mkdtempSync(join(tmpdir(), 'cardsmith-job-host-build-'));
    const env = { ...process.env, CARDSMITH_CACHE: join(work, 'cache'), CARDSMITH_LOG_DIR: join(work, 'logs') };
    client = new JobHostClient(() => forkHost(bundle, env).host);
  }, 60_000);

  afterAll(async () => {
    await client.shutdown();
    rmSync(work, { recursive: true, force: true });
  });

  it('plans, builds and inspects an image, each result validated, the build with its phase events', async () => {
    const rootfs = makeRootfs(join(work, 'rootfs'));
    const recipe = { board: 'orangepi-plus', rootfs: rootfs.tarball, loaderFrom: ORANGEPI_LOADER, rootSize: { mode: 'minimal' as const }, table: 'mbr' as const };
    const plan = ResultSchemas.planBuild.parse(await client.run('plan', { op: 'planBuild', recipe }, collector().onEvent));
    const output = join(work, 'card.img');
    const build = collector();
    const built = ResultSchemas.build.parse(await client.run('build', { op: 'build', recipe: { ...recipe, output } }, build.onEvent));
    expect(build.events).toContainEqual(expect.objectContaining({ type: 'phase', phase: 'build', state: 'start' }));
    expect(built.sizeBytes).toBe(plan.sizeBytes);
    const inspected = ResultSchemas.inspect.parse(await client.run('inspect', { op: 'inspect', target: output }, collector().onEvent));
    expect(inspected.inspection.partitions.length).toBe(plan.partitions.length);
  }, 120_000);
});
