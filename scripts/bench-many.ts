/**
 * flashMany benchmark (not a test): one image onto several RAM-backed loop cards (backing files in
 * /dev/shm), Cardsmith (`cardsmith flash IMG --device A --device B …`, as a user runs it) against
 * the shell doing the same, both in this run, alternating, `repeats` times, medians compared:
 * - raw: 4 cards from one raw image against four `dd oflag=direct` from that file in parallel
 *   (target: our time ≤ 1.1× theirs);
 * - zst: 4 cards from one .zst against `zstd -dc | tee` into four `dd oflag=direct` (≤ 1.0×);
 * - peak RSS of Cardsmith writing and verifying 8 cards (raw and zst; target ≤ 300 MB).
 * The timed cases write without verify (`--no-verify`), as dd does. The zst image is half random,
 * half a repeating pattern (as in bench-flash.ts).
 * Usage (root): npx tsx scripts/bench-many.ts [image MiB, default 2048] [repeats, default 3] [RSS-case image MiB, default 512]
 * Needs: losetup, dd, zstd, /usr/bin/time; builds the CLI bundle first.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { alternate, makeImage, timed, type Timing } from './bench-common';

const MiB = 1 << 20;
const imageMiB = Number(process.argv[2] ?? 2048);
const repeats = Number(process.argv[3] ?? 3);
const rssMiB = Number(process.argv[4] ?? 512);
const root = join(__dirname, '..');
const cli = join(root, 'bin/cardsmith.cjs');
const dir = mkdtempSync('/dev/shm/cardsmith-bench-many-');

/** `count` fresh RAM-backed loop devices for one run, detached and removed afterwards. */
function withCards<T>(count: number, mib: number, body: (devices: string[]) => T): T {
  const devices: string[] = [];
  const files: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const file = join(dir, `card${i}`);
      execFileSync('truncate', ['-s', `${mib * MiB + 16 * MiB}`, file]);
      files.push(file);
      devices.push(execFileSync('losetup', ['--find', '--show', file], { encoding: 'utf8' }).trim());
    }
    return body(devices);
  } finally {
    for (const device of devices) execFileSync('losetup', ['--detach', device]);
    for (const file of files) rmSync(file, { force: true });
  }
}

/** Cardsmith onto every card; fails unless the result says every card was written. */
function cardsmith(source: string, devices: readonly string[], verify: boolean): Timing {
  const out = join(dir, 'result.json');
  const timing = timed(`node ${cli} flash ${source} ${devices.map((d) => `--device ${d}`).join(' ')} --allow-loop --yes --json ${verify ? '' : '--no-verify'} | tail -1 > ${out}`);
  const last = JSON.parse(execFileSync('cat', [out], { encoding: 'utf8' })) as { type: string; result?: { cards: { ok: boolean; verified: boolean }[] } };
  const cards = last.result?.cards ?? [];
  if (last.type !== 'result' || cards.length !== devices.length || cards.some((c) => !c.ok || c.verified !== verify)) throw new Error(`cardsmith did not write every card: ${JSON.stringify(last)}`);
  return timing;
}

const dd = (device: string): string => `dd of=${device} bs=4M iflag=fullblock oflag=direct conv=fsync status=none`;

/** Four dd from the file at once; fails if any does. */
const parallelDd = (image: string, devices: readonly string[]): string =>
  `pids=""; for d in ${devices.join(' ')}; do dd if=${image} of=$d bs=4M oflag=direct conv=fsync status=none & pids="$pids $!"; done; for p in $pids; do wait $p || exit 1; done`;

/** One zstd, its output teed into one dd per card (through FIFOs, so every dd is waited for). */
function teeDd(image: string, devices: readonly string[]): string {
  const [last, ...others] = [...devices].reverse();
  const fifos = others.map((_, i) => join(dir, `fifo${i}`));
  return [
    `rm -f ${fifos.join(' ')}`,
    `mkfifo ${fifos.join(' ')}`,
    `pids=""; ${others.map((d, i) => `${dd(d)} if=${fifos[i]} & pids="$pids $!"`).join('; ')}`,
    `zstd -dc ${image} | tee ${fifos.join(' ')} | ${dd(last as string)}`,
    'for p in $pids; do wait $p || exit 1; done',
  ].join('\n');
}

interface Row {
  readonly name: string;
  readonly ours: Timing;
  readonly reference: Timing;
  readonly referenceName: string;
  readonly target: number;
}

const rows: Row[] = [];
function compare(name: string, ours: () => Timing, referenceName: string, reference: () => Timing, target: number): void {
  rows.push({ name, ...alternate(name, repeats, reference, ours), referenceName, target });
}

const peaks: { name: string; rss: number }[] = [];
try {
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), 'cli'], { cwd: root });
  process.env.CARDSMITH_LOG_DIR = join(dir, 'logs');
  const raw = join(dir, 'raw.img');
  makeImage(raw, imageMiB, () => true, true);
  compare('raw, 4 cards', () => withCards(4, imageMiB, (d) => cardsmith(raw, d, false)), '4 × dd oflag=direct in parallel',
    () => withCards(4, imageMiB, (d) => timed(parallelDd(raw, d))), 1.1);

  // Half random, half a repeating pattern, as bench-flash.ts compresses.
  const mixed = join(dir, 'mixed.img');
  makeImage(mixed, imageMiB, (i) => i >= imageMiB / 8, false);
  execFileSync('dd', [`if=${raw}`, `of=${mixed}`, 'bs=4M', `count=${imageMiB / 8}`, 'conv=notrunc', 'status=none']);
  rmSync(raw);
  execFileSync('zstd', ['-q', '-3', '-T0', '-f', '--rm', mixed]);
  const zst = `${mixed}.zst`;
  compare('zst, 4 cards', () => withCards(4, imageMiB, (d) => cardsmith(zst, d, false)), 'zstd -dc | tee → 4 × dd oflag=direct',
    () => withCards(4, imageMiB, (d) => timed(teeDd(zst, d))), 1.0);
  rmSync(zst);

  const small = join(dir, 'rss.img');
  makeImage(small, rssMiB, () => true, true);
  peaks.push({ name: `raw, 8 cards, ${rssMiB} MiB, verified`, rss: withCards(8, rssMiB, (d) => cardsmith(small, d, true)).rssMiB ?? 0 });
  execFileSync('zstd', ['-q', '-3', '-T0', '-f', small]);
  peaks.push({ name: `zst, 8 cards, ${rssMiB} MiB, verified`, rss: withCards(8, rssMiB, (d) => cardsmith(`${small}.zst`, d, true)).rssMiB ?? 0 });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const pad = (s: string, n: number): string => s.padEnd(n);
console.log(`\nflashMany benchmark, ${imageMiB} MiB image, RAM-backed loop cards, node ${process.version}, ${repeats} alternating runs (medians)\n`);
console.log(`${pad('case', 15)}${pad('cardsmith', 12)}${pad('reference', 12)}${pad('ratio', 13)}target  reference command`);
for (const row of rows) {
  const ratio = row.ours.seconds / row.reference.seconds;
  console.log(`${pad(row.name, 15)}${pad(`${row.ours.seconds.toFixed(2)} s`, 12)}${pad(`${row.reference.seconds.toFixed(2)} s`, 12)}${pad(`${ratio.toFixed(2)} ${ratio <= row.target ? 'ok' : 'MISS'}`, 13)}≤${pad(row.target.toFixed(1), 7)}${row.referenceName}`);
}
for (const peak of peaks) console.log(`peak RSS, ${peak.name}: ${(peak.rss * 1.048576).toFixed(0)} MB (target ≤ 300 MB) ${peak.rss * 1.048576 <= 300 ? 'ok' : 'MISS'}`);
