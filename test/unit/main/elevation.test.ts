import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
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
  type Relay,
} from '../../../electron/main/elevation';
import { createFifoRelay, launchWorker } from '../../../electron/main/worker-launcher';
import type { JobEvent } from '../../../electron/engine/api';
import { buildWorkerBin, workerEntryFor } from './worker-bin';

const NASTY = ["plain", "with space", "it's", "$(touch /tmp/pwned)", '"quoted" \\ back', 'new\nline', '`tick`;&|<>*?'];

const entry = workerEntry('/opt/Cardsmith/cardsmith', '/opt/Cardsmith/resources/app.asar/dist/cli.cjs');
const relay: Relay = { input: "/tmp/cs dir/stdin", output: '/tmp/cs dir/stdout', errors: "/tmp/cs dir/it's.log" };

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

  it('Windows: UAC through Start-Process -Verb RunAs, stdio redirected to the named pipes', () => {
    const pipes: Relay = { input: '\\\\.\\pipe\\cs-1-in', output: '\\\\.\\pipe\\cs-1-out', errors: 'C:\\Temp\\cs.log' };
    const plan = windowsPlan(workerEntry('C:\\Program Files\\Cardsmith\\Cardsmith.exe', 'C:\\Program Files\\Cardsmith\\resources\\app.asar\\dist\\cli.cjs'), pipes);
    expect(plan).toMatchObject({ kind: 'named-pipe', command: 'powershell.exe' });
    const encoded = plan.args[plan.args.indexOf('-EncodedCommand') + 1] ?? '';
    const script = Buffer.from(encoded, 'base64').toString('utf16le');
    expect(script).toContain("Start-Process -FilePath 'cmd.exe'");
    expect(script).toContain('-Verb RunAs');
    expect(script).toContain('set "ELECTRON_RUN_AS_NODE=1"&& "C:\\Program Files\\Cardsmith\\Cardsmith.exe" "C:\\Program Files\\Cardsmith\\resources\\app.asar\\dist\\cli.cjs" "worker"');
    expect(script).toContain('<"\\\\.\\pipe\\cs-1-in" >"\\\\.\\pipe\\cs-1-out" 2>"C:\\Temp\\cs.log"');
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
  beforeAll(async () => {
    bin = await buildWorkerBin('elevation');
  }, 60_000);

  it('connects the worker through its own redirected stdin/stdout and cleans up', async () => {
    const fifo = await createFifoRelay();
    const { client, exited } = await launchWorker({ kind: 'fifo', command: 'sh', args: ['-c', relayedShellCommand(workerEntryFor(bin), fifo)], relay: fifo });
    const events: JobEvent[] = [];
    await client.run('through-fifo', { op: 'installLoader', board: 'orangepi-pc', target: '/nonexistent/fifo-card' }, (event) => events.push(event));
    expect(events.at(-1)?.type).toBe('error');
    expect(JSON.stringify(events)).toContain('/nonexistent/fifo-card');
    await client.shutdown();
    await exited;
    expect(existsSync(dirname(fifo.input))).toBe(false);
  });

  it('reports a refused start instead of waiting forever on the FIFOs', async () => {
    const fifo = await createFifoRelay();
    const launch = launchWorker(
      { kind: 'fifo', command: 'sh', args: ['-c', 'echo "execution error: User canceled. (-128)" >&2; exit 1'], relay: fifo },
      { platform: 'darwin' },
    );
    await expect(launch).rejects.toMatchObject({ info: { cause: 'permission', message: expect.stringMatching(/cancelled/) } });
    expect(existsSync(dirname(fifo.input))).toBe(false);
  });
});
