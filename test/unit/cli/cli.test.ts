import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EventSchema } from '../../../electron/engine/api';
import { parseRootSize } from '../../../electron/cli/build';
import { COMMANDS } from '../../../electron/cli';

const root = join(__dirname, '..', '..', '..');
const bin = join(root, 'bin', 'cardsmith.cjs');
const SUBCOMMANDS = COMMANDS.filter((command) => !command.hidden).map((command) => command.name);

function cardsmith(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('cardsmith CLI', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), 'cli'], { cwd: root });
  });

  it('--help lists every subcommand', () => {
    const { status, stdout } = cardsmith('--help');
    expect(status).toBe(0);
    expect(SUBCOMMANDS).toEqual(expect.arrayContaining(['boards', 'board', 'plan', 'build', 'flash', 'verify']));
    for (const name of SUBCOMMANDS) expect(stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  it.each(SUBCOMMANDS)('%s --help prints its usage', (name) => {
    const { status, stdout } = cardsmith(name, '--help');
    expect(status).toBe(0);
    expect(stdout).toContain(`Usage: cardsmith ${name}`);
  });

  it('rejects an unknown command and an unknown option with exit 2', () => {
    expect(cardsmith('frobnicate').status).toBe(2);
    const bad = cardsmith('boards', '--no-such-option');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--no-such-option');
  });

  it('--json prints contract events, one per line, ending in a terminal event', () => {
    const { status, stdout } = cardsmith('inspect', '/nonexistent/card.img', '--json');
    expect(status).not.toBe(0);
    const events = stdout.trim().split('\n').map((line) => EventSchema.parse(JSON.parse(line)));
    expect(events.at(-1)?.type).toBe('error');
  });

  // The reader is gone before the CLI writes its first byte (`cardsmith board rpi-4-b | head -2`).
  const early = [['boards'], ['board', 'rpi-4-b'], ['boards', '--json'], ...SUBCOMMANDS.map((name) => [name, '--help'])];
  it.each(early.map((args) => [args.join(' '), args] as const))('%s exits quietly when stdout closes', async (_name, args) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('flash without --yes and without a terminal refuses and writes nothing', () => {
    const { status, stderr } = cardsmith('flash', 'image.img', '--device', '/dev/null');
    expect(status).toBe(2);
    expect(stderr).toContain('nothing was written');
  });
});

describe('--root-size parsing', () => {
  it('reads every mode', () => {
    expect(parseRootSize('minimal')).toEqual({ mode: 'minimal' });
    expect(parseRootSize('minimal+512M')).toEqual({ mode: 'minimal', headroomBytes: 512 * 1024 ** 2 });
    expect(parseRootSize('fill')).toEqual({ mode: 'fill' });
    expect(parseRootSize('2G')).toEqual({ mode: 'fixed', bytes: 2 * 1024 ** 3 });
    expect(() => parseRootSize('lots')).toThrow(/--root-size/);
  });
});
