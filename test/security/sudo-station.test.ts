/**
 * `sudo cardsmith station …`: the CLI run as root for a user (SUDO_UID of `nobody`) keeps watching
 * drives itself, but fetches and hashes the source as that user and flashes each new card through
 * the elevated split (root opens the card, the job runs as the user). Run from a copy any user
 * can run, with real loop devices attached while the station runs and a real HTTP server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StationEventSchema, type StationEvent } from '../../electron/engine/api';
import { attachLoop, detachLoop } from '../helpers/loop';
import { describeWith } from '../helpers/needs';
import { installForAnyUser, type Installed } from '../helpers/worker-process';
import { startTestServer, type TestServer } from '../integration/sources/test-server';
import { NOBODY, ownedByOthers, pattern, sha256, snapshot, stage, type Stage, sudoEnvironment } from './hostile';

const MiB = 1 << 20;
let installed: Installed;
let scene: Stage;
let server: TestServer;
let imageBytes: Buffer;

interface Station {
  readonly child: ChildProcess;
  /** Station events, and the error line a station that failed to start prints (--json). */
  readonly lines: { type: string; kind?: string; [key: string]: unknown }[];
  waitFor(test: (line: Station['lines'][number]) => boolean, ms?: number): Promise<Station['lines'][number]>;
  /** The exit code, or null when it had to be killed after `ms`. */
  exited(ms?: number): Promise<number | null>;
  stderr(): string;
}

/** The installed station as `sudo` starts it for nobody (`asUser: false`: a root login), with --json; cards only from `cardsDir`. */
function station(source: string, cardsDir: string, options: { cwd: string; env: Record<string, string>; asUser?: boolean; extra?: readonly string[] }): Station {
  const env = sudoEnvironment(options.asUser !== false, options.env);
  const args = [installed.cli, 'station', source, '--allow-loop', '--yes', '--json', '--count', '1', '--reader', cardsDir, ...(options.extra ?? [])];
  const child = spawn(installed.node, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Station['lines'] = [];
  const waiters: { test: (line: Station['lines'][number]) => boolean; resolve: (line: Station['lines'][number]) => void }[] = [];
  let pending = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    pending += text;
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const raw of complete.filter(Boolean)) {
      const json = JSON.parse(raw) as Station['lines'][number];
      const line = json.type === 'station' ? (StationEventSchema.parse(json) as StationEvent & Station['lines'][number]) : json;
      lines.push(line);
      for (const waiter of [...waiters]) if (waiter.test(line)) waiter.resolve(line);
    }
  });
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  return {
    child,
    lines,
    stderr: () => stderr,
    waitFor: (test, ms = 60_000) =>
      new Promise((resolve, reject) => {
        const seen = lines.find(test);
        if (seen) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`no such line within ${ms} ms; got ${JSON.stringify(lines)}; stderr ${stderr}`)), ms);
        waiters.push({ test, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      }),
    exited: async (ms = 60_000) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const code = await closed;
      clearTimeout(timer);
      return child.signalCode === 'SIGKILL' ? null : code;
    },
  };
}

/** A root-owned folder for this test's card files (a loop device's reader path is its file). */
function cardsDir(name: string): string {
  const dir = join(scene.rootDir, `cards-${name}`);
  mkdirSync(dir);
  return realpathSync(dir);
}

beforeAll(async () => {
  installed = installForAnyUser();
  scene = stage();
  imageBytes = pattern(4 * MiB, 3);
  writeFileSync(join(scene.attackerDir, 'card.img'), imageBytes, { mode: 0o644 });
  server = await startTestServer();
});

afterAll(async () => {
  await server?.close();
  scene?.remove();
  installed?.remove();
});

describeWith(['root', 'tool:setpriv', 'tool:losetup'], 'the station under sudo runs its jobs as the invoking user', () => {
  it('flashes a card attached while it runs; the card job’s log and the report are the user’s', async () => {
    const cards = cardsDir('flash');
    let attached: string | undefined;
    const run = station('card.img', cards, { cwd: scene.attackerDir, env: { CARDSMITH_CACHE: 'station-cache' }, extra: ['--report', 'station.csv'] });
    try {
      const start = await run.waitFor((line) => line.kind === 'start');
      expect(start).toMatchObject({ source: join(scene.attackerDir, 'card.img'), imageSha256: sha256(imageBytes) });
      const file = join(cards, 'card.img');
      writeFileSync(file, Buffer.alloc(16 * MiB, 0xee));
      attached = attachLoop(file);
      expect(await run.exited(), run.stderr()).toBe(0);
      const end = run.lines.find((line) => line.kind === 'end') as Extract<StationEvent, { kind: 'end' }> | undefined;
      expect(end?.rows).toMatchObject([{ device: attached, result: 'ok', bytesWritten: imageBytes.length, error: null }]);
      expect(sha256(readFileSync(attached).subarray(0, imageBytes.length))).toBe(sha256(imageBytes));
      // The person sees the same slot events and tally as from an in-process station.
      const states = run.lines.filter((line) => line.kind === 'slot').map((line) => line.state);
      expect(states).toContain('verifying');
      expect(states.at(-1)).toBe('done');
      expect(run.lines.filter((line) => line.kind === 'tally').at(-1)).toMatchObject({ ok: 1, failed: 0, running: 0 });
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
      if (attached) detachLoop(attached);
    }
    const logs = join(scene.attackerDir, 'station-cache', 'logs');
    expect(readdirSync(logs).length).toBeGreaterThan(0);
    expect(ownedByOthers(join(scene.attackerDir, 'station-cache'), NOBODY)).toEqual([]);
    const report = join(scene.attackerDir, 'station.csv');
    expect(statSync(report).uid).toBe(NOBODY);
    expect(readFileSync(report, 'utf8')).toContain(`,${sha256(imageBytes)},${imageBytes.length},ok,`);
  }, 120_000);

  it('cannot read for the user an image only root can: it fails with permission naming the file, nothing written', async () => {
    const cards = cardsDir('secret');
    const rootBefore = snapshot(scene.rootDir);
    const run = station(scene.secret, cards, { cwd: scene.attackerDir, env: { CARDSMITH_CACHE: 'secret-cache' } });
    try {
      expect(await run.exited(30_000), run.stderr()).toBe(1);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
    expect(run.lines.some((line) => line.kind === 'start')).toBe(false);
    const failure = run.lines.at(-1) as { type: string; error: { cause: string; message: string; details?: { path?: string }; hint?: string } };
    expect(failure).toMatchObject({ type: 'error', error: { cause: 'permission' } });
    expect(JSON.stringify(failure.error)).toContain(scene.secret);
    expect(failure.error.hint).toMatch(/runs as nobody \(uid 65534\)/);
    expect(JSON.stringify(run.lines)).not.toContain(scene.secretBytes.subarray(0, 16).toString('hex'));
    expect(snapshot(scene.rootDir)).toBe(rootBefore);
  }, 60_000);

  it('writes no report where only root could: a report in a root-owned folder fails with permission naming it', async () => {
    const report = join(scene.rootDir, 'root-report.csv');
    const run = station('card.img', cardsDir('report'), { cwd: scene.attackerDir, env: { CARDSMITH_CACHE: 'report-cache' }, extra: ['--report', report] });
    try {
      await run.waitFor((line) => line.kind === 'start');
      run.child.kill('SIGINT'); // no card: the station stops and writes its (empty) report
      expect(await run.exited(), run.stderr()).toBe(1);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
    expect(run.lines.at(-1)).toMatchObject({ type: 'error', error: { cause: 'permission', details: { path: report } } });
    expect(readdirSync(scene.rootDir).filter((name) => name.includes('root-report'))).toEqual([]);
  }, 60_000);

  it('downloads the source from 127.0.0.1 into the user’s cache: nothing in it is root’s', async () => {
    const url = server.add('/station.img', imageBytes);
    const cache = join(scene.attackerDir, 'dl-cache');
    const run = station(url, cardsDir('none'), { cwd: '/', env: { CARDSMITH_CACHE: cache } });
    try {
      await run.waitFor((line) => line.kind === 'start');
      run.child.kill('SIGINT'); // no card: stop the station once it has its image
      expect(await run.exited(), run.stderr()).toBe(0);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
    expect(run.lines.find((line) => line.kind === 'start')).toMatchObject({ imageSha256: sha256(imageBytes) });
    expect(readdirSync(join(cache, 'objects'))).toContain(sha256(imageBytes));
    expect(ownedByOthers(cache, NOBODY)).toEqual([]);
  }, 60_000);

  it('without an invoking user (a root login) runs in its own process, and says so once', async () => {
    const image = join(scene.rootDir, 'root-station.img');
    writeFileSync(image, imageBytes, { mode: 0o600 });
    const run = station(image, cardsDir('root'), { cwd: scene.rootDir, asUser: false, env: { CARDSMITH_CACHE: join(scene.rootDir, 'root-cache') } });
    try {
      await run.waitFor((line) => line.kind === 'start');
      run.child.kill('SIGINT');
      expect(await run.exited(), run.stderr()).toBe(0);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
    expect(run.stderr().split('no invoking user')).toHaveLength(2);
    expect(run.lines.find((line) => line.kind === 'start')).toMatchObject({ imageSha256: sha256(imageBytes) });
  }, 60_000);
});
