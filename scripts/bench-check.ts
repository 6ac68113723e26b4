/**
 * Card-check benchmark (not a test): the whole `cardsmith check` (capacity probe, speed test,
 * zeroing) against Debian's `f3probe --destructive --time-ops` on the same cards in the same run:
 * a fake-capacity FUSE card (claims 1 GiB, holds 96 MiB, wraps around) and a good 4 GiB RAM-backed
 * loop card. Each tool runs `--runs` times per card, alternating; prints every wall time, the
 * medians, the ratio Cardsmith / f3probe (target ≤ 1.0) and what each tool concluded. Beside the
 * wall times (which include starting Node and loading the CLI bundle, ~0.5 s on a busy machine)
 * it prints the time each tool reports for the work itself: the check result's `seconds` and
 * f3probe's "Probe time".
 * Usage (root): npx tsx scripts/bench-check.ts [--runs 3]
 * Needs: f3probe (package f3), losetup, cc, pkg-config, fuse3; builds the CLI bundle first.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { withLoopDevice } from '../test/helpers/loop';
import { withFakeCard } from '../test/integration/check/fake-card';

const MiB = 1 << 20;
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);
const root = join(__dirname, '..');
const cache = mkdtempSync('/tmp/cardsmith-bench-check-');

interface Timed {
  readonly seconds: number;
  /** The time the tool reports for its own work. */
  readonly workSeconds: number;
  readonly said: string;
}

/** `okStatus`: exit codes that are answers (cardsmith: 1 is a bad card; f3probe: 100 + the fake type). */
function timed(command: string, args: string[], okStatus: (status: number) => boolean, said: (stdout: string) => { said: string; workSeconds: number }): Timed {
  const started = performance.now();
  const out = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, CARDSMITH_CACHE: cache, CARDSMITH_LOG_DIR: join(cache, 'logs') }, maxBuffer: 64 * MiB });
  const seconds = (performance.now() - started) / 1000;
  if (out.status === null || !okStatus(out.status)) throw new Error(`${command} ${args.join(' ')} failed (${out.status}): ${out.stderr}`);
  return { seconds, ...said(out.stdout) };
}

const cardsmith = (device: string): Timed =>
  timed(process.execPath, [join(root, 'bin/cardsmith.cjs'), 'check', '--device', device, '--allow-loop', '--yes', '--json'], (status) => status <= 1, (stdout) => {
    const { result } = JSON.parse(stdout.trim().split('\n').at(-1) as string) as { result: { verdict: string; seconds: number; capacity: { realBytes: number } } };
    return { said: `${result.verdict}, real ${result.capacity.realBytes} bytes`, workSeconds: result.seconds };
  });

const f3probe = (device: string): Timed =>
  timed('f3probe', ['--destructive', '--time-ops', device], (status) => status === 0 || status >= 100, (stdout) => {
    const verdict = /(Good news: .*|Bad news: .*)/.exec(stdout)?.[1] ?? '?';
    const usable = /\*Usable\* size:[^(]*\((\d+) blocks\)/.exec(stdout)?.[1];
    const probe = /Probe time: ([\d.]+)(ms|s|us|min)/.exec(stdout);
    const unit = { us: 1e-6, ms: 1e-3, s: 1, min: 60 }[(probe?.[2] ?? 's') as 'us' | 'ms' | 's' | 'min'];
    return { said: `${verdict.replace(/The device `[^']*' /, '')}; usable ${usable === undefined ? '?' : Number(usable) * 512} bytes`, workSeconds: Number(probe?.[1] ?? NaN) * unit };
  });

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function bench(name: string, device: string): Promise<number> {
  const ours: Timed[] = [];
  const theirs: Timed[] = [];
  for (let i = 0; i < runs; i++) {
    ours.push(cardsmith(device));
    theirs.push(f3probe(device));
  }
  const a = median(ours.map((t) => t.seconds));
  const b = median(theirs.map((t) => t.seconds));
  console.log(`${name}:`);
  console.log(`  cardsmith check  ${ours.map((t) => t.seconds.toFixed(3)).join(' ')} s (median ${a.toFixed(3)})  → ${ours[0]?.said}`);
  console.log(`  f3probe          ${theirs.map((t) => t.seconds.toFixed(3)).join(' ')} s (median ${b.toFixed(3)})  → ${theirs[0]?.said}`);
  console.log(`  ratio cardsmith / f3probe: ${(a / b).toFixed(2)} (target ≤ 1.0)`);
  const wa = median(ours.map((t) => t.workSeconds));
  const wb = median(theirs.map((t) => t.workSeconds));
  console.log(`  own reported work time: cardsmith ${wa.toFixed(3)} s, f3probe ${wb.toFixed(3)} s, ratio ${(wa / wb).toFixed(2)}`);
  return a / b;
}

async function main(): Promise<void> {
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), 'cli'], { cwd: root, stdio: 'inherit' });
  try {
    const fake = await withFakeCard('wrap', 1024 * MiB, 96 * MiB, (device) => bench('fake card (claims 1 GiB, holds 96 MiB, wraps)', device));
    const good = await withLoopDevice({ sizeBytes: 4096 * MiB, ram: true }, (loop) => bench('good 4 GiB RAM-backed card', loop.device));
    console.log(`ratios: fake ${fake.toFixed(2)}, good ${good.toFixed(2)}`);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

void main();
