/**
 * Flash benchmark on a realistic card (not a test): a FUSE card (test/helpers/fuse-card.ts) that
 * writes at 40 MB/s and reads at 90 MB/s, like a good SD card, and an HTTP mirror paced to
 * 30 MB/s (test/integration/sources/test-server.ts). The limit of each case is measured on the
 * same card in the same run — dd's write and O_DIRECT readback, curl's download — and Cardsmith's
 * flash + verify is printed as a ratio to it (the targets of issue 19), with bmaptool beside it.
 * Each measurement runs `repeats` times, interleaved with the others; medians are compared.
 * The image is half data (random 4 MiB stretches) and half holes, the same bytes in every case:
 * raw without a bmap (its zero half found while streaming), with a bmap (50 % mapped), as .xz, and
 * from the URL. Every run gets a fresh card, whose unwritten blocks read zero.
 * Usage (root): npx tsx scripts/bench-card.ts [image MiB, default 512] [repeats, default 3]
 * Needs: losetup, dd, curl, xz, bmaptool, /usr/bin/time, cc + fuse3 headers, /dev/fuse.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, linkSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomFillSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withFuseCard } from '../test/helpers/fuse-card';
import { startTestServer } from '../test/integration/sources/test-server';

const MiB = 1 << 20;
const MB = 1e6;
const imageMiB = Number(process.argv[2] ?? 512);
const repeats = Number(process.argv[3] ?? 3);
const CARD = { sizeBytes: 1024 * MiB, keepsData: true, writeBytesPerSecond: 40 * MB, readBytesPerSecond: 90 * MB };
const HTTP_BYTES_PER_SECOND = 30 * MB;
const root = join(__dirname, '..');
const cli = join(root, 'bin/cardsmith.cjs');
const dir = mkdtempSync('/dev/shm/cardsmith-bench-card-');

interface Timing {
  readonly seconds: number;
  readonly rssMiB: number;
}

/** Runs a shell command under GNU time (asynchronously: the HTTP mirror lives in this process). */
function timed(command: string, env: NodeJS.ProcessEnv = process.env): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'BENCH %e %M', 'bash', '-o', 'pipefail', '-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-4000)));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => {
      const match = /BENCH ([\d.]+) (\d+)/.exec(stderr);
      if (status !== 0 || !match) reject(new Error(`failed: ${command}\n${stderr}${stdout}`));
      else resolve({ seconds: Number(match[1]), rssMiB: Number(match[2]) / 1024 });
    });
  });
}

/** `mib` MiB: random 4 MiB stretches where `mapped(i)`, holes elsewhere (a sparse file). */
function makeImage(path: string, mib: number, mapped: (chunk: number) => boolean): void {
  const chunk = Buffer.alloc(4 * MiB);
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < mib / 4; i++) {
      if (!mapped(i)) continue;
      randomFillSync(chunk);
      writeSync(fd, chunk, 0, chunk.length, i * 4 * MiB);
    }
  } finally {
    closeSync(fd);
  }
  execFileSync('truncate', ['-s', `${mib * MiB}`, path]);
}

/** The pinned Node the project runs the CLI on (node_modules/node), as a user's install would. */
const node = join(root, 'node_modules/node/bin/node');
const flash = (source: string, device: string, extra = ''): string => `${node} ${cli} flash ${source} --device ${device} --allow-loop --yes --json ${extra} | tail -1`;

function median(runs: readonly Timing[]): Timing {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  return { seconds: (sorted[Math.floor(sorted.length / 2)] as Timing).seconds, rssMiB: Math.max(...runs.map((r) => r.rssMiB)) };
}

function etcherSdkPresent(): boolean {
  try {
    createRequire(__filename).resolve('etcher-sdk');
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), 'cli'], { cwd: root });
  const image = join(dir, 'half.img');
  makeImage(image, imageMiB, (i) => i % 2 === 0);
  const mapped = join(dir, 'mapped.img');
  linkSync(image, mapped);
  execFileSync('bmaptool', ['create', '-o', `${mapped}.bmap`, mapped], { stdio: 'ignore' });
  execFileSync('xz', ['-0', '-T0', '-k', image]);
  const server = await startTestServer({ bytesPerSecond: HTTP_BYTES_PER_SECOND });
  const url = server.add('/half.img', await readFile(image));
  const logs = join(dir, 'logs');
  const env = (cache: string): NodeJS.ProcessEnv => ({ ...process.env, CARDSMITH_LOG_DIR: logs, CARDSMITH_CACHE: cache });
  let run = 0;
  /** Each URL flash starts with an empty cache, so it downloads. */
  const freshCache = (): string => join(dir, `cache-${run++}`);

  /** One fresh card per measurement; a measurement may time several commands on it. */
  const onCard = (name: string, command: (device: string) => string, cache = false) => (): Promise<Record<string, Timing>> =>
    withFuseCard(CARD, async (d) => ({ [name]: await timed(command(d), env(cache ? freshCache() : join(dir, 'unused'))) }));
  const measures: (() => Promise<Record<string, Timing>>)[] = [
    () =>
      withFuseCard(CARD, async (d) => ({
        'dd write': await timed(`dd if=${image} of=${d} bs=4M oflag=direct conv=fsync status=none`),
        'dd readback': await timed(`dd if=${d} bs=4M iflag=direct count=${imageMiB / 4} status=none | sha256sum >/dev/null`),
      })),
    async () => ({ 'curl download': await timed(`curl -sf -o /dev/null ${url}`) }),
    onCard('cardsmith raw', (d) => flash(image, d), true),
    onCard('cardsmith url', (d) => flash(url, d), true),
    onCard('cardsmith bmap', (d) => flash(mapped, d), true),
    onCard('cardsmith bmap read-first', (d) => flash(mapped, d, '--holes read-first'), true),
    onCard('cardsmith bmap zero', (d) => flash(mapped, d, '--holes zero'), true),
    onCard('bmaptool copy', (d) => `bmaptool -q copy --bmap ${mapped}.bmap ${mapped} ${d}`),
    onCard('cardsmith xz', (d) => flash(`${image}.xz`, d), true),
  ];
  const runs = new Map<string, Timing[]>();
  try {
    for (let i = 0; i < repeats; i++) {
      for (const measure of measures) {
        for (const [name, timing] of Object.entries(await measure())) {
          runs.set(name, [...(runs.get(name) ?? []), timing]);
          console.log(`round ${i + 1} ${name}: ${timing.seconds.toFixed(2)} s, ${timing.rssMiB.toFixed(0)} MiB RSS`);
        }
        rmSync(join(dir, `cache-${run - 1}`), { recursive: true, force: true });
      }
    }
  } finally {
    await server.close();
  }
  const m = (name: string): number => median(runs.get(name) ?? []).seconds;
  const raw = m('cardsmith raw');
  const cardLimit = m('dd write') + m('dd readback');
  const urlLimit = Math.max(m('curl download'), m('dd write')) + m('dd readback');
  const rows: [string, number, string, number, number | null][] = [
    ['raw flash + verify', raw, 'dd write + dd readback', cardLimit, 1.02],
    ['URL (30 MB/s) flash + verify', m('cardsmith url'), 'max(curl, dd write) + dd readback', urlLimit, 1.05],
    ['bmap 50% (skip)', m('cardsmith bmap'), 'cardsmith raw', raw, 0.7],
    ['bmap 50% read-first', m('cardsmith bmap read-first'), 'cardsmith raw', raw, null],
    ['bmap 50% zero', m('cardsmith bmap zero'), 'cardsmith raw', raw, null],
    ['bmaptool copy (no verify)', m('bmaptool copy'), 'cardsmith raw', raw, null],
    ['.xz flash + verify', m('cardsmith xz'), 'cardsmith raw', raw, 1.05],
  ];
  const w = CARD.writeBytesPerSecond / MB;
  const r = CARD.readBytesPerSecond / MB;
  console.log(`\ncard benchmark: ${imageMiB} MiB image (half data, half holes), FUSE card ${w}/${r} MB/s write/read, HTTP ${HTTP_BYTES_PER_SECOND / MB} MB/s, medians of ${repeats}, node ${process.version}\n`);
  console.log(`${'case'.padEnd(31)}${'seconds'.padEnd(9)}${'against'.padEnd(36)}${'seconds'.padEnd(9)}ratio  target`);
  for (const [name, ours, againstName, against, target] of rows) {
    const ratio = ours / against;
    const verdict = target === null ? '' : `≤${target.toFixed(2)} ${ratio <= target ? 'ok' : 'MISS'}`;
    console.log(`${name.padEnd(31)}${ours.toFixed(2).padEnd(9)}${againstName.padEnd(36)}${against.toFixed(2).padEnd(9)}${ratio.toFixed(2).padEnd(7)}${verdict}`);
  }
  console.log(`\nlimits: dd write ${m('dd write').toFixed(2)} s, dd readback ${m('dd readback').toFixed(2)} s, curl ${m('curl download').toFixed(2)} s`);
  console.log(`etcher-sdk: ${etcherSdkPresent() ? 'installed but not wired into this benchmark' : 'not installed here (npm package etcher-sdk); not measured'}`);
  const peak = Math.max(...[...runs].filter(([name]) => name.startsWith('cardsmith')).flatMap(([, t]) => t.map((x) => x.rssMiB)));
  console.log(`peak RSS of cardsmith: ${(peak * 1.048576).toFixed(0)} MB (target ≤ 200 MB) ${peak * 1.048576 <= 200 ? 'ok' : 'MISS'}`);
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
