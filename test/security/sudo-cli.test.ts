/**
 * `sudo cardsmith flash …`: the CLI run as root for a user (SUDO_UID of `nobody` here) opens the
 * card as root and runs the job — source, download, cache, log — as that user, like the GUI's
 * worker. Run from a copy any user can run; what the user plants is planted as `nobody`. Without
 * an invoking user (a real root login) the CLI still runs the job in its own process.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { urlKey } from '../../electron/engine/sources/cache';
import { withLoopDevice } from '../helpers/loop';
import { describeWith } from '../helpers/needs';
import { installForAnyUser, type Installed } from '../helpers/worker-process';
import { startTestServer, type TestServer } from '../integration/sources/test-server';
import { asNobody, NOBODY, ownedByOthers, pattern, sha256, snapshot, stage, type Stage, sudoEnvironment } from './hostile';

const MiB = 1 << 20;
let installed: Installed;
let scene: Stage;
let server: TestServer;
let imageBytes: Buffer;

const cardHead = (device: string, bytes: number): Buffer => readFileSync(device).subarray(0, bytes);

interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The NDJSON events of a --json run. */
  readonly events: { type: string; [key: string]: unknown }[];
}

/**
 * The installed CLI as `sudo` starts it for nobody (`asUser: false`: as a real root login would), in
 * `cwd`. Not spawnSync: the test's HTTP server runs in this process and must keep answering.
 */
async function cardsmith(args: readonly string[], options: { cwd: string; asUser?: boolean; env?: Record<string, string> }): Promise<CliRun> {
  const env = sudoEnvironment(options.asUser !== false, options.env);
  const child = spawn(installed.node, [installed.cli, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const events = args.includes('--json') ? stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as CliRun['events'][number]) : [];
  return { status, stdout, stderr, events };
}

beforeAll(async () => {
  installed = installForAnyUser();
  scene = stage();
  imageBytes = pattern(4 * MiB, 1);
  // The user's own image, in the user's folder (the CLI's cwd), named by a relative path.
  writeFileSync(join(scene.attackerDir, 'card.img'), imageBytes, { mode: 0o644 });
  server = await startTestServer();
});

afterAll(async () => {
  await server?.close();
  scene?.remove();
  installed?.remove();
});

describeWith(['root', 'tool:setpriv', 'tool:losetup'], 'the CLI under sudo runs the job as the invoking user', () => {
  it('flashes a relative image the user can read; the log and cache are the user’s', async () => {
    await withLoopDevice({ sizeBytes: 16 * MiB, ram: true }, async (loop) => {
      const run = await cardsmith(['flash', 'card.img', '--device', loop.device, '--allow-loop', '--yes'], { cwd: scene.attackerDir, env: { CARDSMITH_CACHE: 'cache' } });
      expect(run.status, run.stderr).toBe(0);
      // The person sees what an in-process flash prints.
      const line = /^(\S+): wrote 4 MiB, verified; log (\S+)\n$/.exec(run.stdout);
      expect(line?.[1]).toBe(loop.device);
      const log = line?.[2] as string;
      expect(log.startsWith(join(scene.attackerDir, 'cache', 'logs'))).toBe(true);
      expect(statSync(log).uid).toBe(NOBODY);
      expect(ownedByOthers(join(scene.attackerDir, 'cache'), NOBODY)).toEqual([]);
      expect(sha256(cardHead(loop.device, imageBytes.length))).toBe(sha256(imageBytes));
    });
  });

  it('cannot read for the user what only root can: a 0600 root image fails naming it, card unchanged', async () => {
    await withLoopDevice({ sizeBytes: 16 * MiB, ram: true }, async (loop) => {
      writeFileSync(loop.device, pattern(16 * MiB, 7));
      const before = sha256(readFileSync(loop.device));
      const human = await cardsmith(['flash', scene.secret, '--device', loop.device, '--allow-loop', '--yes'], { cwd: scene.attackerDir, env: { CARDSMITH_CACHE: 'cache' } });
      expect(human.status).toBe(1);
      expect(human.stderr).toContain(`error (permission): `);
      expect(human.stderr).toContain(scene.secret);
      expect(human.stderr).toMatch(/runs as nobody \(uid 65534\), who ran sudo.*must be readable by that user/);
      const json = await cardsmith(['verify', scene.secret, '--device', loop.device, '--allow-loop', '--json'], { cwd: scene.attackerDir, env: { CARDSMITH_CACHE: 'cache' } });
      expect(json.status).toBe(1);
      expect(json.events.at(-1)).toMatchObject({ type: 'error', error: { cause: 'permission', details: { path: scene.secret } } });
      expect(json.stdout).not.toContain(scene.secretBytes.subarray(0, 16).toString('hex'));
      expect(sha256(readFileSync(loop.device))).toBe(before);
    });
  });

  it('downloads from 127.0.0.1 into the user’s cache: nothing in it is root’s', async () => {
    const url = server.add('/sudo.img', imageBytes);
    const cache = join(scene.attackerDir, 'dl-cache');
    await withLoopDevice({ sizeBytes: 16 * MiB, ram: true }, async (loop) => {
      const run = await cardsmith(['flash', url, '--device', loop.device, '--allow-loop', '--yes', '--json'], { cwd: '/', env: { CARDSMITH_CACHE: cache } });
      expect(run.status, run.stderr).toBe(0);
      expect(run.events.at(-1)).toMatchObject({ type: 'result', op: 'flash', result: { device: loop.device, bytesWritten: imageBytes.length, verified: true } });
      expect(sha256(cardHead(loop.device, imageBytes.length))).toBe(sha256(imageBytes));
    });
    expect(readdirSync(join(cache, 'objects'))).toContain(sha256(imageBytes));
    expect(ownedByOthers(cache, NOBODY)).toEqual([]);
  });

  it('follows no symlink the user planted in the cache to a file of root’s', async () => {
    const url = server.add('/planted.img', imageBytes);
    const attack = async (asUser: boolean): Promise<void> => {
      // The user's own process plants a partial download pointing at a root-owned file.
      const cache = join(scene.attackerDir, `plant-${asUser ? 'user' : 'root'}`);
      asNobody('mkdir', ['-p', join(cache, 'partial')]);
      asNobody('ln', ['-s', scene.victim, join(cache, 'partial', `${urlKey(url)}.part`)]);
      await withLoopDevice({ sizeBytes: 16 * MiB, ram: true }, async (loop) => {
        await cardsmith(['flash', url, '--device', loop.device, '--allow-loop', '--yes'], { cwd: '/', asUser, env: { CARDSMITH_CACHE: cache } });
      });
    };
    const rootBefore = snapshot(scene.rootDir);
    await attack(true);
    expect(readFileSync(scene.victim, 'utf8')).toBe('root-owned content\n');
    expect(snapshot(scene.rootDir)).toBe(rootBefore);
    // The same plant against the whole job run as root (what `sudo cardsmith` did before) is live:
    // the victim grows by the downloaded bytes. This proves the attack above was a real one.
    await attack(false);
    expect(readFileSync(scene.victim).length).toBeGreaterThan('root-owned content\n'.length);
    writeFileSync(scene.victim, 'root-owned content\n');
  });

  it('writes several cards and verifies one with the same split (flashMany, verify)', async () => {
    await withLoopDevice({ sizeBytes: 16 * MiB, ram: true }, async (a) => {
      await withLoopDevice({ sizeBytes: 16 * MiB, ram: true }, async (b) => {
        const many = await cardsmith(['flash', 'card.img', '--device', a.device, '--device', b.device, '--allow-loop', '--yes'], { cwd: scene.attackerDir, env: { CARDSMITH_CACHE: 'cache' } });
        expect(many.status, many.stderr).toBe(0);
        expect(many.stdout).toContain('2 of 2 cards written\n');
        for (const card of [a, b]) expect(sha256(cardHead(card.device, imageBytes.length))).toBe(sha256(imageBytes));
        const verify = await cardsmith(['verify', 'card.img', '--device', b.device, '--allow-loop'], { cwd: scene.attackerDir, env: { CARDSMITH_CACHE: 'cache' } });
        expect(verify.status, verify.stderr).toBe(0);
        expect(verify.stdout).toBe(`${b.device}: verified 4 MiB, identical\n`);
      });
    });
    for (const log of readdirSync(join(scene.attackerDir, 'cache', 'logs'))) expect(statSync(join(scene.attackerDir, 'cache', 'logs', log)).uid, log).toBe(NOBODY);
  });

  it('checks a card as the user: the card job probes it, its log is the user’s', async () => {
    await withLoopDevice({ sizeBytes: 32 * MiB, ram: true }, async (loop) => {
      const run = await cardsmith(['check', '--device', loop.device, '--allow-loop', '--yes', '--no-speed', '--json'], { cwd: scene.attackerDir, env: { CARDSMITH_CACHE: 'cache' } });
      expect(run.status, run.stderr).toBe(0);
      const end = run.events.at(-1) as unknown as { type: string; result: { verdict: string; capacity: { realBytes: number }; logFile: string } };
      expect(end).toMatchObject({ type: 'result', result: { verdict: 'good', capacity: { realBytes: 32 * MiB } } });
      expect(statSync(end.result.logFile).uid).toBe(NOBODY);
    });
  });

  it('without an invoking user (a root login) runs the job in its own process, and says so once', async () => {
    const rootCwd = scene.rootDir;
    writeFileSync(join(rootCwd, 'root.img'), imageBytes.subarray(0, MiB), { mode: 0o600 });
    await withLoopDevice({ sizeBytes: 16 * MiB, ram: true }, async (loop) => {
      const run = await cardsmith(['flash', 'root.img', '--device', loop.device, '--allow-loop', '--yes', '--json'], { cwd: rootCwd, asUser: false, env: { CARDSMITH_CACHE: join(rootCwd, 'cache') } });
      expect(run.status, run.stderr).toBe(0);
      const notes = run.events.filter((event) => event.type === 'log' && String(event.message).includes('no invoking user'));
      expect(notes).toHaveLength(1);
      const result = run.events.at(-1) as unknown as { result: { logFile: string } };
      expect(statSync(result.result.logFile).uid).toBe(0);
      expect(sha256(cardHead(loop.device, MiB))).toBe(sha256(imageBytes.subarray(0, MiB)));
    });
  });
});
