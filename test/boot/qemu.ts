/**
 * Runs one QEMU boot and watches its serial console. QEMU is spawned directly (no shell) as the
 * leader of its own process group, stdin closed, stdout and stderr piped; every console line is
 * stamped with the time since spawn and written to a log that CI keeps. The run ends on the first
 * of: the marker (pass; the guest then gets a grace period to power off, or an end line such as
 * "reboot: System halted" ends it at once — QEMU's orangepi-pc never exits by itself), a failure
 * text, QEMU exiting, or the deadline. Only the process group this module started is signalled:
 * SIGTERM, then SIGKILL after a few seconds. Never QEMU by name, other jobs run QEMU too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

export const ARTIFACT_DIR = join(__dirname, '..', '..', 'test-artifacts', 'boot');

const KILL_AFTER_TERM_MS = 5_000;

export interface Milestone {
  readonly name: string;
  readonly pattern: RegExp;
}

export interface QemuSpec {
  /** Log file stem under test-artifacts/boot/. */
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  readonly deadlineMs: number;
  /** The line that means success (or, in a negative test, the line that must never come). */
  readonly marker: RegExp;
  readonly failures: readonly RegExp[];
  readonly milestones: readonly Milestone[];
  /** After the marker: how long the guest may take to power off before it is stopped. */
  readonly graceMs?: number;
  /** After the marker: a line after which nothing more is expected. */
  readonly endLine?: RegExp;
}

export interface ConsoleLine {
  readonly atMs: number;
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

export type BootOutcome =
  | { readonly kind: 'marker'; readonly line: ConsoleLine }
  | { readonly kind: 'failure'; readonly line: ConsoleLine }
  | { readonly kind: 'exited'; readonly code: number | null; readonly signal: NodeJS.Signals | null }
  | { readonly kind: 'deadline' };

export interface BootRun {
  readonly outcome: BootOutcome;
  readonly lines: readonly ConsoleLine[];
  /** First time each milestone's pattern matched, in the order they were seen. */
  readonly milestones: readonly { readonly name: string; readonly atMs: number }[];
  readonly logFile: string;
  readonly elapsedMs: number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) signalGroup(child, 'SIGKILL');
});

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Signals the child's own process group, and only while the child itself has not exited. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || !alive(child)) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // exited between the check and the signal
  }
}

function stamp(line: ConsoleLine): string {
  return `[${(line.atMs / 1000).toFixed(3).padStart(8)}]${line.stream === 'stderr' ? ' stderr:' : ''} ${line.text}\n`;
}

function describeOutcome(outcome: BootOutcome): string {
  switch (outcome.kind) {
    case 'marker':
      return `marker at ${outcome.line.atMs} ms`;
    case 'failure':
      return `failure text at ${outcome.line.atMs} ms: ${outcome.line.text}`;
    case 'exited':
      return `QEMU exited (code ${outcome.code}, signal ${outcome.signal})`;
    case 'deadline':
      return 'deadline reached';
  }
}

export function runQemu(spec: QemuSpec): Promise<BootRun> {
  const logFile = join(ARTIFACT_DIR, `${spec.name}.log`);
  mkdirSync(dirname(logFile), { recursive: true });
  const log = openSync(logFile, 'w');
  writeSync(log, `# ${spec.binary} ${spec.args.join(' ')}\n`);
  const started = performance.now();
  const child = spawn(spec.binary, [...spec.args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);

  const lines: ConsoleLine[] = [];
  const milestones: { name: string; atMs: number }[] = [];
  let outcome: BootOutcome | null = null;
  let stopping = false;

  return new Promise<BootRun>((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    const finish = (): void => {
      if (stopping) return;
      stopping = true;
      signalGroup(child, 'SIGTERM');
      timers.push(setTimeout(() => signalGroup(child, 'SIGKILL'), KILL_AFTER_TERM_MS));
    };
    const decide = (next: BootOutcome): void => {
      if (outcome !== null) return;
      outcome = next;
      if (next.kind !== 'marker') {
        finish();
      } else if (spec.graceMs !== undefined) {
        timers.push(setTimeout(finish, spec.graceMs));
      } else {
        finish();
      }
    };

    const onLine = (stream: ConsoleLine['stream'], raw: string): void => {
      const line: ConsoleLine = { atMs: Math.round(performance.now() - started), stream, text: raw.replace(/\r/g, '') };
      lines.push(line);
      writeSync(log, stamp(line));
      for (const milestone of spec.milestones) {
        if (milestone.pattern.test(line.text) && !milestones.some((seen) => seen.name === milestone.name)) {
          milestones.push({ name: milestone.name, atMs: line.atMs });
        }
      }
      if (outcome === null) {
        if (spec.marker.test(line.text)) decide({ kind: 'marker', line });
        else if (spec.failures.some((failure) => failure.test(line.text))) decide({ kind: 'failure', line });
      } else if (outcome.kind === 'marker' && spec.endLine?.test(line.text)) {
        finish();
      }
    };
    const reader = (stream: ConsoleLine['stream']) => {
      const decoder = new StringDecoder('utf8');
      let pending = '';
      return {
        data(chunk: Buffer): void {
          pending += decoder.write(chunk);
          let newline = pending.indexOf('\n');
          while (newline !== -1) {
            onLine(stream, pending.slice(0, newline));
            pending = pending.slice(newline + 1);
            newline = pending.indexOf('\n');
          }
        },
        end(): void {
          pending += decoder.end();
          if (pending !== '') onLine(stream, pending);
          pending = '';
        },
      };
    };
    const out = reader('stdout');
    const err = reader('stderr');
    child.stdout!.on('data', out.data);
    child.stderr!.on('data', err.data);
    timers.push(setTimeout(() => decide({ kind: 'deadline' }), spec.deadlineMs));

    child.on('error', (error) => {
      onLine('stderr', `spawn failed: ${error.message}`);
      decide({ kind: 'exited', code: null, signal: null });
    });
    child.on('close', (code, signal) => {
      out.end();
      err.end();
      live.delete(child);
      for (const timer of timers) clearTimeout(timer);
      if (outcome === null) outcome = { kind: 'exited', code, signal };
      const elapsedMs = Math.round(performance.now() - started);
      writeSync(log, `# ${describeOutcome(outcome)}; QEMU ended after ${elapsedMs} ms (code ${code}, signal ${signal})\n`);
      closeSync(log);
      resolve({ outcome, lines, milestones, logFile, elapsedMs });
    });
  });
}

/**
 * Throws unless every named milestone was seen, in exactly this order; the message shows what
 * was seen, with times, and where the log is.
 */
export function assertMilestonesInOrder(run: BootRun, expected: readonly string[]): void {
  const seen = run.milestones.map((milestone) => milestone.name).filter((name) => expected.includes(name));
  if (seen.join(' > ') !== expected.join(' > ')) {
    const timeline = run.milestones.map((milestone) => `${milestone.name}@${milestone.atMs}ms`).join(', ');
    throw new Error(`milestones: expected ${expected.join(' > ')}, saw ${timeline || 'none'} (${describeOutcome(run.outcome)}; log ${run.logFile})`);
  }
}

export function outcomeText(run: BootRun): string {
  return `${describeOutcome(run.outcome)}; log ${run.logFile}`;
}
