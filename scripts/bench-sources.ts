/**
 * Benchmark (not a test): decompress + sha256 throughput of Cardsmith's decoders against the
 * reference CLIs in the same run, on a generated mixed image (random, zero and text regions).
 *
 *   npx tsx scripts/bench-sources.ts [--mib 256] [--formats gz,xz,zst,bz2] [--xz auto|cli|wasm] [--keep]
 *
 * Each Cardsmith run happens in its own child process so its peak RSS is its own. Ratios above
 * 1.0 mean Cardsmith is faster than the CLI piped into sha256sum.
 *
 * Measurements behind the decoders' design, on the 2-core development VM (they moved here from
 * the engine's comments; rerun before relying on them):
 * - decompress.ts TOOL_READ_AHEAD: with 1 MiB of read-ahead a tool stalled whenever the consumer
 *   was busy writing, ~450 against ~600 MiB/s for zstd into a reader with 4 MiB.
 * - decompress.ts xz 'cli': `xz -dc -T0` decoded multi-block files 1.5–2× as fast as the WASM decoder.
 * - decompress.ts decompressFile: for a 256 MiB image, `zstd -dc` into Node ran at ~900 MiB/s
 *   reading the file itself against 580–770 MiB/s fed through a pipe (the feeding doubled Node's CPU time).
 * - zstd-reader.ts: for a 512 MiB image node:zlib's zstd stream took 0.38–0.55 s against 0.24 s
 *   for `zstd -dc >/dev/null`; decoding into the writer's buffers took 0.28 s; a 4 MiB read
 *   decodes in about 2 ms.
 * - tool-reader.ts: xz writes 8 KiB per write() (strace: 65 536 writes for 512 MiB); consuming
 *   `xz -dc -T0` of a 512 MiB image as a Node stream took 1.0–1.8 s against 0.5 s for
 *   `xz -dc -T0 >/dev/null` (system time ~0.9 s); an EAGAIN from readSync costs ~6 µs without a
 *   stack trace against ~11 µs with one.
 * - crc32c.ts (ext4 metadata checksums): slicing-by-8 runs near 1 GB/s in plain JS.
 * - catalog-formats.ts: compiling the catalog validators costs ~90 ms.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createDecompressor, type StreamCompression } from '../electron/engine/sources/decompress';

const FORMATS = [
  { format: 'gz', tool: 'gzip', compress: ['-c', '-6'], reference: 'gzip -dc' },
  { format: 'xz', tool: 'xz', compress: ['-c', '-T0', '-3'], reference: 'xz -dc -T0' },
  { format: 'zst', tool: 'zstd', compress: ['-c', '-q', '-T0', '-3'], reference: 'zstd -dc' },
  { format: 'bz2', tool: 'bzip2', compress: ['-c', '-9'], reference: 'bzip2 -dc' },
] as const;

async function childRun(format: StreamCompression, file: string, xz: 'auto' | 'cli' | 'wasm'): Promise<void> {
  const hash = createHash('sha256');
  const started = performance.now();
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), createDecompressor(format, { xz }), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) hash.update(chunk);
  });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(JSON.stringify({ seconds, sha256: hash.digest('hex'), maxRssKiB: process.resourceUsage().maxRSS }));
}

async function writeImage(path: string, mib: number): Promise<void> {
  const out = createWriteStream(path);
  const text = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `/usr/lib/file-${i} mode=0644 size=${i * 37}\n`).join('')).subarray(0, 1 << 20);
  for (let i = 0; i < mib; i++) {
    // Per 10 MiB: 3 random (already-compressed files), 4 zero (free space), 3 text (configs, logs).
    const kind = i % 10;
    const chunk = kind < 3 ? randomBytes(1 << 20) : kind < 7 ? Buffer.alloc(1 << 20) : text;
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

function timeShell(command: string): { seconds: number; sha256: string } {
  const started = performance.now();
  const result = spawnSync('bash', ['-c', `set -o pipefail; ${command} | sha256sum`], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command}: ${result.stderr}`);
  return { seconds: (performance.now() - started) / 1000, sha256: result.stdout.split(' ')[0]! };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' }, formats: { type: 'string', default: 'gz,xz,zst,bz2' }, xz: { type: 'string', default: 'auto' }, keep: { type: 'boolean', default: false }, child: { type: 'string' }, file: { type: 'string' } } });
  const xzDecoder = values.xz as 'auto' | 'cli' | 'wasm';
  if (values.child) return childRun(values.child as StreamCompression, values.file!, xzDecoder);

  const mib = Number(values.mib);
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-bench-'));
  const image = join(dir, 'image.img');
  try {
    process.stdout.write(`generating a ${mib} MiB mixed image in ${dir}\n`);
    await writeImage(image, mib);
    const imageSha = timeShell(`cat ${image}`).sha256;
    process.stdout.write(`node ${process.version}\n\n`);
    process.stdout.write(`${'format'.padEnd(7)}${'ratio'.padStart(7)}  ${'cardsmith MiB/s'.padStart(15)}  ${'reference MiB/s'.padStart(15)}  ${'peak RSS MiB'.padStart(12)}  reference\n`);
    for (const { format, tool, compress, reference } of FORMATS.filter((entry) => values.formats.split(',').includes(entry.format))) {
      if (!existsSync(`/usr/bin/${tool}`) && !existsSync(`/bin/${tool}`)) {
        process.stdout.write(`${format.padEnd(7)} skipped: ${tool} is not installed\n`);
        continue;
      }
      const compressed = join(dir, `image.${format}`);
      execFileSync('bash', ['-c', `${tool} ${compress.join(' ')} ${image} > ${compressed}`]);
      const ref = timeShell(`${reference} ${compressed}`);
      const child = spawnSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', format, '--file', compressed, '--xz', xzDecoder], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`cardsmith ${format}: ${child.stderr}`);
      const ours = JSON.parse(child.stdout) as { seconds: number; sha256: string; maxRssKiB: number };
      if (ours.sha256 !== imageSha || ref.sha256 !== imageSha) throw new Error(`${format}: hash mismatch (ours ${ours.sha256}, reference ${ref.sha256}, image ${imageSha})`);
      const oursRate = mib / ours.seconds;
      const refRate = mib / ref.seconds;
      process.stdout.write(
        `${format.padEnd(7)}${(oursRate / refRate).toFixed(2).padStart(7)}  ${oursRate.toFixed(0).padStart(15)}  ${refRate.toFixed(0).padStart(15)}  ${(ours.maxRssKiB / 1024).toFixed(0).padStart(12)}  ${reference} | sha256sum  (${(statSync(compressed).size / 2 ** 20).toFixed(0)} MiB compressed)\n`,
      );
      rmSync(compressed);
    }
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
