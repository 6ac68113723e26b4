/**
 * Packs the app for real with electron-builder (`--dir --linux`, offline) using a stub Electron
 * distribution, then checks what a user would receive: app.asar holds the bundles and the
 * engine/CLI, drivelist's addon sits unpacked beside it, the pkexec launcher starts the bundled
 * worker in Node mode, the packed job host runs a job, and the packed CLI bundle really speaks
 * the worker protocol.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractAll, listPackage } from '@electron/asar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvelopeSchema, ResultSchemas, type Envelope } from '../../../electron/engine/api';
import { JobHostClient } from '../../../electron/main/job-host-client';
import { forkHost } from '../../unit/main/job-host-bin';

const root = join(__dirname, '..', '..', '..');

describe('electron-builder --dir --linux with a stub Electron', () => {
  const work = mkdtempSync(join(tmpdir(), 'cardsmith-pack-'));
  const app = join(work, 'out', 'linux-unpacked');
  const asar = join(app, 'resources', 'app.asar');

  beforeAll(() => {
    execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), 'all'], { cwd: root, stdio: 'pipe' });
    const electronDist = join(work, 'electron-dist');
    mkdirSync(electronDist);
    // The stub stands in for the Electron binary: it reports how it was started.
    writeFileSync(join(electronDist, 'electron'), '#!/bin/sh\nprintf "%s\\n" "ELECTRON_RUN_AS_NODE=${ELECTRON_RUN_AS_NODE:-}" "$@"\n');
    chmodSync(join(electronDist, 'electron'), 0o755);
    writeFileSync(join(electronDist, 'version'), 'v45.5.0');
    writeFileSync(join(electronDist, 'LICENSE'), 'stub');
    execFileSync(
      process.execPath,
      [join(root, 'node_modules', 'electron-builder', 'cli.js'), '--dir', '--linux', '-c', 'builder-config.yml', `-c.electronDist=${electronDist}`, `-c.directories.output=${join(work, 'out')}`],
      { cwd: root, stdio: 'pipe', env: { ...process.env, CI: 'true' } },
    );
  }, 240_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('app.asar holds the main, preload, job-host and renderer bundles, the CLI/engine bundle and package.json', () => {
    const files = new Set(listPackage(asar, { isPack: false }).map((path) => path.replaceAll('\\', '/')));
    for (const file of ['/package.json', '/out/main/main.cjs', '/out/main/preload.cjs', '/out/main/job-host.cjs', '/out/renderer/index.html', '/dist/cli.cjs']) expect(files, file).toContain(file);
    expect([...files].some((file) => file.endsWith('.map'))).toBe(false);
  });

  it("unpacks drivelist's native addon next to app.asar", () => {
    const addon = join(`${asar}.unpacked`, 'node_modules', 'drivelist', 'build', 'Release', 'drivelist.node');
    expect(statSync(addon).size).toBeGreaterThan(10_000);
  });

  it('the launcher pkexec runs starts the bundled worker on the app runtime in Node mode, with a clean environment', () => {
    const launcher = join(app, 'resources', 'cardsmith-worker');
    const run = spawnSync('/usr/bin/env', ['-i', launcher], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual(['ELECTRON_RUN_AS_NODE=1', join(app, 'resources', 'app.asar', 'dist', 'cli.cjs'), 'worker']);
  });

  it('the packed job host runs an unprivileged job, loading drivelist from the unpacked addon', async () => {
    const extracted = join(work, 'extracted-host');
    extractAll(asar, extracted);
    const client = new JobHostClient(() => forkHost(join(extracted, 'out', 'main', 'job-host.cjs')).host);
    try {
      const errors: unknown[] = [];
      const result = await client.run('drives', { op: 'listDrives', all: true, includeLoop: false }, (event) => event.type === 'error' && errors.push(event.error));
      expect(errors).toEqual([]);
      expect(ResultSchemas.listDrives.parse(result).drives).toBeInstanceOf(Array);
    } finally {
      await client.shutdown();
    }
  });

  it('the packed CLI bundle answers worker commands, loading drivelist from the unpacked addon', async () => {
    const extracted = join(work, 'extracted');
    extractAll(asar, extracted);
    expect(existsSync(join(extracted, 'node_modules', 'drivelist', 'build', 'Release', 'drivelist.node'))).toBe(true);
    const worker = spawn(process.execPath, ['-e', `require(${JSON.stringify(join(extracted, 'dist', 'cli.cjs'))}).runCli(['worker'])`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    worker.stderr.setEncoding('utf8');
    worker.stderr.on('data', (text: string) => {
      errors += text;
    });
    worker.stdout.setEncoding('utf8');
    worker.stdout.on('data', (text: string) => {
      output += text;
    });
    const closed = new Promise<number | null>((resolve) => worker.on('close', resolve));
    worker.stdin.write(`${JSON.stringify({ cmd: 'start', job: 'drives', request: { op: 'listDrives' } })}\n`);
    worker.stdin.write(`${JSON.stringify({ cmd: 'shutdown' })}\n`);
    expect(await closed, errors).toBe(0);
    const envelopes: Envelope[] = output.trim().split('\n').map((line) => EnvelopeSchema.parse(JSON.parse(line)));
    const last = envelopes.at(-1);
    expect(last?.job).toBe('drives');
    expect(last?.event.type === 'error' ? last.event.error : last?.event).toMatchObject({ type: 'result', op: 'listDrives' });
  });
});
