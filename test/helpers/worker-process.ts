/**
 * The privileged worker as its client sees it: a child process (`cardsmith worker`) speaking
 * WorkerCommand lines on stdin and Envelope lines on stdout. Tests start it as root the way
 * pkexec does for a user — PKEXEC_UID names the user its card jobs run as — from a copy of the
 * CLI bundle and Node in a world-readable folder, so that user can run them wherever the
 * checkout lives.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EnvelopeSchema, type Envelope } from '../../electron/engine/api';

const root = join(__dirname, '..', '..');
export const NOBODY = 65534;

/** Node and the CLI bundle copied where any user can read and run them. */
export interface Installed {
  readonly dir: string;
  readonly node: string;
  readonly cli: string;
  remove(): void;
}

export function installForAnyUser(): Installed {
  const built = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), 'cli'], { cwd: root, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building the CLI failed: ${built.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-installed-'));
  chmodSync(dir, 0o755);
  const node = join(dir, 'node');
  const cli = join(dir, 'cli.cjs');
  copyFileSync(process.execPath, node);
  chmodSync(node, 0o755);
  copyFileSync(join(root, 'dist/cli.cjs'), cli);
  chmodSync(cli, 0o644);
  return { dir, node, cli, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface WorkerOptions {
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Run from this installed copy (default: this checkout's bin with the test's Node). */
  readonly installed?: Installed;
}

export class WorkerProcess {
  readonly envelopes: Envelope[] = [];
  readonly stderr: string[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor(options: WorkerOptions = {}) {
    const [command, entry] = options.installed ? [options.installed.node, options.installed.cli] : [process.execPath, join(root, 'bin/cardsmith.cjs')];
    this.child = spawn(command, [entry, 'worker', ...(options.args ?? [])], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env } });
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stderr.setEncoding('utf8').on('data', (text: string) => this.stderr.push(text));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.envelopes.push(EnvelopeSchema.parse(JSON.parse(line)));
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  send(line: unknown): void {
    this.child.stdin.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`);
  }

  /** Writes raw bytes to the worker's stdin, as a hostile client could. */
  sendRaw(bytes: Uint8Array | string): void {
    this.child.stdin.write(bytes);
  }

  async until(predicate: (e: Envelope) => boolean): Promise<Envelope> {
    for (;;) {
      const found = this.envelopes.find(predicate);
      if (found) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** The job's terminal envelope (result or error). */
  ended(job: string): Promise<Envelope> {
    return this.until((e) => e.job === job && (e.event.type === 'result' || e.event.type === 'error'));
  }

  end(): void {
    this.child.stdin.end();
  }
}
