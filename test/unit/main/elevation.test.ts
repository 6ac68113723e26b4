import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appleScriptString,
  classifyElevationFailure,
  linuxPlan,
  macPlan,
  powerShellString,
  relayedShellCommand,
  shellQuote,
  windowsPlan,
  workerEntry,
  type FifoRelay,
  type Relay,
  type WorkerEntry,
} from '../../../electron/main/elevation';
import { createFifoRelay, fifosReady, launchWorker } from '../../../electron/main/worker-launcher';
import type { JobEvent } from '../../../electron/engine/api';
import { buildWorkerBin, workerEntryFor } from './worker-bin';

const NASTY = ["plain", "with space", "it's", "$(touch /tmp/pwned)", '"quoted" \\ back', 'new\nline', '`tick`;&|<>*?'];

const entry = workerEntry('/opt/Cardsmith/cardsmith', '/opt/Cardsmith/resources/app.asar/dist/cli.cjs');
const relay: FifoRelay = { dir: "/var/run/cs it's", input: "/var/run/cs it's/stdin", output: "/var/run/cs it's/stdout", user: { uid: 501, gid: 20 }, root: 0 };

describe('quoting for the elevation tools', () => {
  it('POSIX sh gets back exactly the string that was quoted', () => {
    for (const value of NASTY) {
      const echoed = spawnSync('sh', ['-c', `printf %s ${shellQuote(value)}`], { encoding: 'utf8' });
      expect(echoed.stdout).toBe(value);
    }
  });

  it('AppleScript and PowerShell literals escape their own quote characters', () => {
    expect(appleScriptString('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    expect(powerShellString("it's")).toBe("'it''s'");
  });
});

describe('elevation plans', () => {
  it('runs the worker on the app runtime in Node mode', () => {
    expect(entry).toEqual({ executable: '/opt/Cardsmith/cardsmith', args: ['/opt/Cardsmith/resources/app.asar/dist/cli.cjs', 'worker'], env: { ELECTRON_RUN_AS_NODE: '1' } });
  });

  it('Linux: pkexec runs the packaged launcher (a path a polkit action can name), or env when unpackaged', () => {
    expect(linuxPlan(entry, '/opt/Cardsmith/resources/cardsmith-worker')).toEqual({ kind: 'inherit', command: 'pkexec', args: ['/opt/Cardsmith/resources/cardsmith-worker'], env: {} });
    expect(linuxPlan(entry, null)).toMatchObject({
      command: 'pkexec',
      args: ['env', 'ELECTRON_RUN_AS_NODE=1', '/opt/Cardsmith/cardsmith', '/opt/Cardsmith/resources/app.asar/dist/cli.cjs', 'worker'],
    });
  });

  it('macOS: osascript with administrator privileges runs the worker with its stdio on the FIFOs', () => {
    const plan = macPlan(entry, relay);
    expect(plan).toMatchObject({ kind: 'fifo', command: '/usr/bin/osascript', relay });
    const script = plan.args[1] ?? '';
    expect(plan.args[0]).toBe('-e');
    expect(script).toMatch(/^do shell script ".*" with prompt ".*" with administrator privileges$/s);
    const literal = /^do shell script "((?:[^"\\]|\\.)*)"/s.exec(script)?.[1] ?? '';
    expect(literal.replace(/\\(.)/gs, '$1')).toBe(relayedShellCommand(entry, relay));
  });

  it('macOS: root makes a fresh directory for the FIFOs, gives them to the user, and redirects only inside it', () => {
    const steps = relayedShellCommand(entry, relay).split('; ');
    expect(steps[0]).toBe('umask 077');
    expect(steps[1]).toBe(`mkdir -m 0711 ${shellQuote(relay.dir)} || exit 70`);
    expect(steps[2]).toContain(`mkfifo -m 0600 ${shellQuote(relay.input)} ${shellQuote(relay.output)} && chown 501:20 `);
    const run = steps.find((step) => step.includes('SUDO_UID')) ?? '';
    expect(run).toMatch(/^ELECTRON_RUN_AS_NODE='1' SUDO_UID='501' '\/opt\/Cardsmith\/cardsmith' /);
    const redirections = [...run.matchAll(/[<>]('(?:[^']|'\\'')*')/g)].map((m) => m[1]);
    expect(redirections).toEqual([shellQuote(relay.input), shellQuote(relay.output), shellQuote(`${relay.dir}/stderr`)]);
    expect(steps.at(-2)).toBe(`rm -rf ${shellQuote(relay.dir)}`);
  });

  it('Windows: UAC through Start-Process -Verb RunAs, stdio redirected to the named pipes, the byte channel named', () => {
    const pipes: Relay = { input: '\\\\.\\pipe\\cs-1-in', output: '\\\\.\\pipe\\cs-1-out', errors: '\\\\.\\pipe\\cs-1-err', bytes: '\\\\.\\pipe\\cs-1-bytes' };
    const plan = windowsPlan(workerEntry('C:\\Program Files\\Cardsmith\\Cardsmith.exe', 'C:\\Program Files\\Cardsmith\\resources\\app.asar\\dist\\cli.cjs'), pipes);
    expect(plan).toMatchObject({ kind: 'named-pipe', command: 'powershell.exe' });
    const encoded = plan.args[plan.args.indexOf('-EncodedCommand') + 1] ?? '';
    const script = Buffer.from(encoded, 'base64').toString('utf16le');
    expect(script).toContain("Start-Process -FilePath 'cmd.exe'");
    expect(script).toContain('-Verb RunAs');
    expect(script).toContain('set "ELECTRON_RUN_AS_NODE=1"&& "C:\\Program Files\\Cardsmith\\Cardsmith.exe" "C:\\Program Files\\Cardsmith\\resources\\app.asar\\dist\\cli.cjs" "worker"');
    expect(script).toContain('<"\\\\.\\pipe\\cs-1-in" >"\\\\.\\pipe\\cs-1-out" 2>"\\\\.\\pipe\\cs-1-err"');
    expect(script).toContain('"worker" "--byte-channel" "\\\\.\\pipe\\cs-1-bytes" <');
    expect(script).toMatch(/exit \$p\.ExitCode$/);
  });
});

describe('classifying a failed elevated start', () => {
  it('names the missing polkit agent and offers sudo', () => {
    const info = classifyElevationFailure('linux', 127, 'Error executing command as another user: No authentication agent found.\n');
    expect(info.cause).toBe('permission');
    expect(info.message).toMatch(/polkit authentication agent/);
    expect(info.hint).toMatch(/sudo cardsmith flash/);
  });

  it('tells a dismissed prompt apart from a crash on each OS', () => {
    expect(classifyElevationFailure('linux', 126, 'Error executing command as another user: Not authorized').message).toMatch(/refused or .*dismissed/);
    expect(classifyElevationFailure('darwin', 1, '0:150: execution error: User canceled. (-128)').message).toMatch(/cancelled/);
    expect(classifyElevationFailure('win32', 1, 'Start-Process : This command cannot be run due to the error: The operation was canceled by the user.').message).toMatch(/UAC/);
    expect(classifyElevationFailure('linux', 1, 'Segmentation fault')).toMatchObject({ cause: 'internal', details: { exitCode: 1 } });
  });
});

describe('the FIFO relay (the macOS path) with sh standing in for osascript', () => {
  let bin: string;
  // Stands in for the root-owned /var/run: the tests run as root, so root owns it here too.
  const base = mkdtempSync(join(tmpdir(), 'cardsmith-varrun-'));
  const nobody = { uid: 65534, gid: 65534 };
  const relayFor = (user = nobody): FifoRelay => ({ ...createFifoRelay(base, process.getuid?.() ?? 0), user });
  const viaSh = (command: WorkerEntry, fifo: FifoRelay) => ({ kind: 'fifo' as const, command: 'sh', args: ['-c', relayedShellCommand(command, fifo)], relay: fifo });
  beforeAll(async () => {
    bin = await buildWorkerBin('elevation');
  }, 60_000);
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('connects the worker through FIFOs root made and gave to the user, then removes them', async () => {
    const fifo = relayFor();
    const { client, exited } = await launchWorker(viaSh(workerEntryFor(bin), fifo));
    const dir = lstatSync(fifo.dir);
    expect([dir.uid, dir.mode & 0o777]).toEqual([process.getuid?.(), 0o711]);
    for (const path of [fifo.input, fifo.output]) expect([lstatSync(path).isFIFO(), lstatSync(path).uid, lstatSync(path).mode & 0o777]).toEqual([true, 65534, 0o600]);
    const events: JobEvent[] = [];
    await client.run('through-fifo', { op: 'installLoader', board: 'orangepi-pc', target: '/nonexistent/fifo-card' }, (event) => events.push(event));
    expect(events.at(-1)?.type).toBe('error');
    expect(JSON.stringify(events)).toContain('/nonexistent/fifo-card');
    await client.shutdown();
    await exited;
    expect(existsSync(fifo.dir)).toBe(false);
  });

  it('does not follow a symlink planted where the FIFO directory goes, and says so', async () => {
    const victim = join(base, 'victim');
    mkdirSync(victim);
    writeFileSync(join(victim, 'precious'), 'keep me');
    const fifo = relayFor();
    symlinkSync(victim, fifo.dir);
    const launch = launchWorker(viaSh(workerEntryFor(bin), fifo), { platform: 'darwin' });
    await expect(launch).rejects.toMatchObject({ info: { cause: 'internal', message: expect.stringMatching(/private FIFO directory/) } });
    expect(readdirSync(victim)).toEqual(['precious']);
    expect(readFileSync(join(victim, 'precious'), 'utf8')).toBe('keep me');
    expect(lstatSync(fifo.dir).isSymbolicLink()).toBe(true);
  });

  it('opens nothing until the FIFOs are in a directory only root can change', () => {
    const fifo = relayFor({ uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
    mkdirSync(fifo.dir, { mode: 0o777 });
    spawnSync('chmod', ['0777', fifo.dir]);
    spawnSync('mkfifo', [fifo.input, fifo.output]);
    expect(fifosReady(fifo)).toBe(false);
    spawnSync('chmod', ['0711', fifo.dir]);
    expect(fifosReady(fifo)).toBe(true);
    expect(fifosReady({ ...fifo, root: 12345 })).toBe(false);
    expect(fifosReady({ ...fifo, user: nobody })).toBe(false);
  });

  it('passes on the stderr of a worker that failed and cleans up', async () => {
    const fifo = relayFor();
    const failing: WorkerEntry = { executable: 'sh', args: ['-c', 'echo "worker: no such card" >&2; exit 3'], env: {} };
    const { exited } = await launchWorker(viaSh(failing, fifo), { platform: 'darwin' });
    const info = await exited;
    expect(info).toMatchObject({ cause: 'internal', details: { exitCode: 3, stderr: expect.stringContaining('worker: no such card') } });
    expect(existsSync(fifo.dir)).toBe(false);
  });

  it('reports a refused start instead of waiting forever for the FIFOs', async () => {
    const fifo = relayFor();
    const launch = launchWorker({ kind: 'fifo', command: 'sh', args: ['-c', 'echo "execution error: User canceled. (-128)" >&2; exit 1'], relay: fifo }, { platform: 'darwin' });
    await expect(launch).rejects.toMatchObject({ info: { cause: 'permission', message: expect.stringMatching(/cancelled/) } });
    expect(existsSync(fifo.dir)).toBe(false);
  });
});

/** What the elevated cmd.exe does with its redirections, played by node over Unix sockets. */
const CMD_STANDIN = `
const net = require('node:net');
const { spawn } = require('node:child_process');
const [input, output, errors, program, ...args] = process.argv.slice(1);
const connect = (path) => new Promise((resolve) => { const s = net.connect(path, () => resolve(s)); });
Promise.all([connect(input), connect(output), connect(errors)]).then(([i, o, e]) => {
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  i.pipe(child.stdin);
  child.stdout.pipe(o);
  child.stderr.pipe(e);
  child.on('close', (code) => { i.destroy(); o.end(); e.end(() => { process.exitCode = code; }); });
});
`;

describe('the named-pipe relay (the Windows path) with node standing in for cmd.exe', () => {
  let bin: string;
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-pipes-'));
  const pipes = (name: string): Relay => ({ input: join(dir, `${name}-in`), output: join(dir, `${name}-out`), errors: join(dir, `${name}-err`) });
  const viaNode = (relay: Relay, program: string[]) => ({ kind: 'named-pipe' as const, command: process.execPath, args: ['-e', CMD_STANDIN, relay.input, relay.output, relay.errors, ...program], relay });
  beforeAll(async () => {
    bin = await buildWorkerBin('elevation-pipes');
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('connects the worker through its stdin/stdout pipes', async () => {
    const relay = pipes('ok');
    const { client, exited } = await launchWorker(viaNode(relay, [process.execPath, bin, 'worker']), { platform: 'win32' });
    const events: JobEvent[] = [];
    await client.run('through-pipes', { op: 'installLoader', board: 'orangepi-pc', target: '/nonexistent/pipe-card' }, (event) => events.push(event));
    expect(JSON.stringify(events.at(-1))).toContain('/nonexistent/pipe-card');
    await client.shutdown();
    expect(await exited).toMatchObject({ details: { exitCode: 0 } });
  });

  it('reads a failed worker’s stderr from the third pipe', async () => {
    const relay = pipes('fail');
    const { exited } = await launchWorker(viaNode(relay, ['sh', '-c', 'echo "worker: no such card" >&2; exit 3']), { platform: 'win32' });
    expect(await exited).toMatchObject({ cause: 'internal', details: { exitCode: 3, stderr: expect.stringContaining('worker: no such card') } });
  });
});
