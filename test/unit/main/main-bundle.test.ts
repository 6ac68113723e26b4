/**
 * Runs the real main-process bundle (out/main/main.cjs) under Node with a stand-in for the
 * `electron` module (electron-stub.cjs), since the Electron binary cannot be installed here.
 * What is checked is the wiring the pure modules cannot show: which window options are passed,
 * that the scheme is registered before ready, that the page is served with the CSP, that
 * navigation and foreign IPC are refused and that a job's events reach the page from the job
 * host (a utility process: here a Node child forked by the stand-in).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../../electron/main/security';
import { root } from './worker-bin';

const bundleDir = join(root, 'test-artifacts', 'main', 'bundle', 'out', 'main');
const stub = join(__dirname, 'electron-stub.cjs');

function runMain(env: Record<string, string> = {}): Record<string, unknown> {
  const run = spawnSync(process.execPath, ['-r', stub, join(bundleDir, 'main.cjs')], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  if (!line.startsWith('{')) throw new Error(`main bundle printed no report: ${run.stdout}\n${run.stderr}`);
  return JSON.parse(line) as Record<string, unknown>;
}

describe('the main-process bundle, wired to a stand-in electron', () => {
  let report: Record<string, unknown>;
  beforeAll(async () => {
    // The bundle as scripts/build.mjs makes it, in a private folder beside a renderer page.
    const options: BuildOptions = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['electron', 'drivelist'], logLevel: 'warning' };
    await build({ ...options, entryPoints: [join(root, 'electron/main/main.ts')], outfile: join(bundleDir, 'main.cjs') });
    await build({ ...options, entryPoints: [join(root, 'electron/main/job-host-entry.ts')], outfile: join(bundleDir, 'job-host.cjs') });
    const renderer = join(bundleDir, '..', 'renderer');
    mkdirSync(renderer, { recursive: true });
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Cardsmith</title>');
    report = runMain({ CARDSMITH_LOG_DIR: '/var/log/cardsmith-bundle-test' });
  }, 60_000);

  it('opens one isolated, sandboxed window on the app page, served with the CSP', () => {
    expect(report.lockRequested).toBe(1);
    expect(report.protocolBeforeReady).toBe(true);
    expect(report.privilegedSchemes).toEqual([expect.objectContaining({ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) })]);
    expect(report.windows).toHaveLength(1);
    expect((report.windows as { webPreferences: object }[])[0]?.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      preload: join(bundleDir, 'preload.cjs'),
    });
    expect(report.loadedUrl).toBe('app://cardsmith/index.html');
    expect(report.page).toEqual({ status: 200, csp: CONTENT_SECURITY_POLICY, type: 'text/html; charset=utf-8', body: '<!doctype html><title>Cardsmith</title>' });
    expect(report.traversal).toBe(404);
    expect(report.permissionHandlers).toBe(2);
    expect(report.menu).toEqual(['&File', 'editMenu', '&View', 'windowMenu', 'help']);
  });

  it('refuses navigation and new windows, and IPC from any other page', () => {
    expect(report.navigationPrevented).toEqual({ foreign: true, own: false });
    expect(report.windowOpen).toEqual({ action: 'deny' });
    expect(report.openedExternally).toBe('https://www.debian.org/');
    expect(report.ipcChannels).toEqual(['cardsmith:run', 'cardsmith:cancel', 'cardsmith:choose-image-file', 'cardsmith:show-item-in-folder']);
    expect(report.foreignRun).toMatch(/IPC refused/);
  });

  it("streams a job's events to the page that asked and passes the dialog's choice back", () => {
    // The job ran in the job host, a utility process forked once, after ready, from the bundle beside main.
    expect(report.utilityForks).toEqual([expect.objectContaining({ modulePath: join(bundleDir, 'job-host.cjs'), ready: true })]);
    const events = report.events as { channel: string; job: string; type: string }[];
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((event) => event.channel === 'cardsmith:event' && event.job === 'j2')).toBe(true);
    expect(events.at(-1)?.type).toBe('result');
    expect(report.chosen).toBe('/chosen.img');
  });

  it('shows a log from the log folder in the file manager and refuses any other path', () => {
    expect(report.showLog).toBe('shown');
    expect(report.shownItems).toEqual(['/var/log/cardsmith-bundle-test/flash-sdz.log']);
    expect(report.showOther).toMatch(/Only the app's logs/);
  });

  it('quits at once when another instance holds the lock', () => {
    const report = runMain({ STUB_LOCK: 'taken' });
    expect(report.quit).toBe(true);
    expect(report.windows).toEqual([]);
    expect(report.protocolBeforeReady).toBe(true);
  });
});
