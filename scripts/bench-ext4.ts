/**
 * Benchmark: root filesystem image from a tarball — Cardsmith's ext4 writer vs the Linux
 * reference (extract as root, `mkfs.ext4 -d`, `e2fsck -fn`), same machine, one run each.
 * Prints times, the time ratio, image size vs data, and Cardsmith's peak RSS.
 *
 *   npx tsx scripts/bench-ext4.ts [--rootfs rootfs.tar[.gz|.xz|.zst]] [--mib 256]
 *
 * Without --rootfs a synthetic tree of mixed file sizes (--mib of data) is generated and tarred.
 * Needs root (extraction keeps ownership), tar, mkfs.ext4 and e2fsck.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { planExt4, writeExt4, type Ext4Report } from '../electron/engine/fs/ext4/ext4';
import { openRootfs } from '../electron/engine/fs/rootfs';
import { FileSink } from '../electron/engine/fs/sink';

const MiB = 1024 * 1024;

function synthesise(dir: string, mib: number): string {
  const root = join(dir, 'synthetic');
  let left = mib * MiB;
  let n = 0;
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed;
  };
  while (left > 0) {
    const sub = join(root, `d${Math.floor(n / 500)}`);
    if (n % 500 === 0) mkdirSync(sub, { recursive: true });
    // Mostly small files, some large: roughly a distribution's shape.
    const size = Math.min(left, n % 50 === 0 ? 4 * MiB : random() % 40_000);
    const data = Buffer.alloc(size);
    for (let i = 0; i + 4 <= size; i += 64) data.writeUInt32LE(random(), i);
    writeFileSync(join(sub, `f${n}`), data);
    left -= size;
    n++;
  }
  const tar = join(dir, 'synthetic.tar');
  execFileSync('tar', ['-C', root, '--numeric-owner', '-cf', tar, '.']);
  rmSync(root, { recursive: true, force: true });
  return tar;
}

const time = async <T>(body: () => Promise<T> | T): Promise<{ value: T; seconds: number }> => {
  const start = performance.now();
  const value = await body();
  return { value, seconds: (performance.now() - start) / 1000 };
};

/** The Cardsmith side runs in its own process so its peak RSS is its own. */
async function child(tarball: string, image: string, epoch: number): Promise<void> {
  const scan = await time(() => openRootfs(tarball, { defaultMtime: epoch }));
  const source = scan.value;
  const planned = await time(() => planExt4(source.tree, { size: { kind: 'minimal' }, seed: 'bench', timestamp: epoch }));
  const plan = planned.value;
  const write = await time(async () => {
    const sink = await FileSink.create(image, plan.report.sizeBytes);
    await writeExt4(plan, sink, source.contents());
    await sink.close();
  });
  const phases = { scan: scan.seconds, plan: planned.seconds, write: write.seconds };
  console.log(JSON.stringify({ report: plan.report, rssKiB: process.resourceUsage().maxRSS, phases }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rootfs: { type: 'string' }, mib: { type: 'string', default: '256' }, child: { type: 'string' }, out: { type: 'string' } },
  });
  const epoch = 1_700_000_000;
  if (values.child && values.out) return child(values.child, values.out, epoch);
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-bench-'));
  try {
    const tarball = values.rootfs ?? synthesise(dir, Number(values.mib));

    const ours = join(dir, 'cardsmith.img');
    const cardsmith = await time(
      () => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', __filename, '--child', tarball, '--out', ours], { encoding: 'utf8' })) as { report: Ext4Report; rssKiB: number; phases: Record<string, number> },
    );
    const rssMiB = cardsmith.value.rssKiB / 1024;
    const report = cardsmith.value.report;
    const ourCheck = await time(() => execFileSync('e2fsck', ['-fn', ours], { stdio: 'ignore' }));

    const extracted = join(dir, 'extracted');
    const reference = join(dir, 'reference.img');
    mkdirSync(extracted);
    const extract = await time(() => execFileSync('tar', ['-C', extracted, '--numeric-owner', '--xattrs', '--xattrs-include=*', '-xf', tarball]));
    // The reference gets NixOS's sizing rule (data × 1.10 + 16 MiB), or ours if that is larger.
    const referenceBytes = Math.max(report.sizeBytes, Math.ceil((report.dataBytes * 1.1 + 16 * MiB) / 4096) * 4096);
    const mkfs = await time(() => {
      execFileSync('truncate', ['-s', String(referenceBytes), reference]);
      execFileSync('mkfs.ext4', ['-q', '-F', '-d', extracted, reference], { env: { ...process.env, E2FSPROGS_FAKE_TIME: String(epoch) } });
    });
    const refCheck = await time(() => execFileSync('e2fsck', ['-fn', reference], { stdio: 'ignore' }));
    const referenceSeconds = extract.seconds + mkfs.seconds;

    const data = report.dataBytes;
    const line = (label: string, value: string): void => console.log(`${label.padEnd(34)} ${value}`);
    line('tarball', `${tarball} (${(statSync(tarball).size / MiB).toFixed(1)} MiB)`);
    line('file data', `${(data / MiB).toFixed(1)} MiB`);
    line('cardsmith build (process total)', `${cardsmith.seconds.toFixed(2)} s`);
    const phases = Object.entries(cardsmith.value.phases).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
    line('  of which', phases);
    line('reference extract + mkfs.ext4 -d', `${referenceSeconds.toFixed(2)} s (extract ${extract.seconds.toFixed(2)}, mkfs ${mkfs.seconds.toFixed(2)})`);
    line('e2fsck -fn (ours / reference)', `${ourCheck.seconds.toFixed(2)} s / ${refCheck.seconds.toFixed(2)} s`);
    line('time ratio (ours / reference)', (cardsmith.seconds / referenceSeconds).toFixed(2));
    line('image size (ours / reference)', `${(report.sizeBytes / MiB).toFixed(1)} MiB (minimal, 16 MiB free) / ${(referenceBytes / MiB).toFixed(1)} MiB`);
    line('image / (data + 5 %)', (report.sizeBytes / (data * 1.05)).toFixed(3));
    line('image / NixOS (data × 1.10 + 16 MiB)', (report.sizeBytes / (data * 1.1 + 16 * MiB)).toFixed(3));
    line('written on disk (ours / reference)', `${((statSync(ours).blocks * 512) / MiB).toFixed(1)} / ${((statSync(reference).blocks * 512) / MiB).toFixed(1)} MiB`);
    line('cardsmith peak RSS', `${rssMiB.toFixed(0)} MiB (limit 300; includes ~90 MiB of the tsx loader)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
