/** What the flash benchmarks share: a command timed under GNU time (wall seconds, peak RSS) and the median of runs. */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';

const MiB = 1 << 20;

export interface Timing {
  readonly seconds: number;
  readonly rssMiB: number | null;
}

/**
 * Runs a shell command under GNU time; returns wall seconds and peak RSS of the command. A
 * command that prints `JOB-SECONDS s` (worker-client.mjs) is timed by that instead: the job's own
 * time with the elevated part already running, as in the GUI.
 */
export function timed(command: string): Timing {
  const out = spawnSync('/usr/bin/time', ['-f', 'BENCH %e %M', 'bash', '-o', 'pipefail', '-c', command], { encoding: 'utf8', maxBuffer: 64 * MiB });
  if (out.status !== 0) throw new Error(`failed: ${command}\n${out.stderr}${out.stdout.slice(-2000)}`);
  const match = /BENCH ([\d.]+) (\d+)/.exec(out.stderr);
  if (!match) throw new Error(`no timing for ${command}`);
  const job = /JOB-SECONDS ([\d.]+)/.exec(out.stdout);
  return { seconds: Number(job?.[1] ?? match[1]), rssMiB: Number(match[2]) / 1024 };
}

/** The run with the median time; the peak RSS is the largest of all runs. */
export function median(runs: readonly Timing[]): Timing {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const middle = sorted[Math.floor(sorted.length / 2)] as Timing;
  return { seconds: middle.seconds, rssMiB: Math.max(...runs.map((r) => r.rssMiB ?? 0)) };
}

/**
 * Runs the reference and ours alternately `repeats` times (one run of either side varies a lot on
 * a shared machine), prints every time, and returns the median of each side.
 */
export function alternate(name: string, repeats: number, reference: () => Timing, ours: () => Timing): { reference: Timing; ours: Timing } {
  const theirs: Timing[] = [];
  const mine: Timing[] = [];
  for (let i = 0; i < repeats; i++) {
    theirs.push(reference());
    mine.push(ours());
  }
  console.log(`${name}: reference ${theirs.map((t) => t.seconds.toFixed(2)).join(' ')} s, cardsmith ${mine.map((t) => t.seconds.toFixed(2)).join(' ')} s`);
  return { reference: median(theirs), ours: median(mine) };
}

/** Image of `mib` MiB: 4 MiB stretches, data (random or pattern) where `mapped(i)` holds, holes elsewhere. */
export function makeImage(path: string, mib: number, mapped: (chunk: number) => boolean, random: boolean): void {
  const chunk = Buffer.alloc(4 * MiB);
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < mib / 4; i++) {
      if (!mapped(i)) continue;
      if (random) randomFillSync(chunk);
      else chunk.fill(i & 0xff);
      writeSync(fd, chunk, 0, chunk.length, i * 4 * MiB);
    }
  } finally {
    closeSync(fd);
  }
  execFileSync('truncate', ['-s', `${mib * MiB}`, path]);
}
