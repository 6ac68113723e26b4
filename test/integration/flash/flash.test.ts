/**
 * Flash and verify on real loop devices: every source format the sources module decodes, bmap
 * sparse writes, a flipped byte found by verify, a card too small, a mounted card, a card that
 * fails mid-write (a loop device over a FUSE file returning EIO), cancel, and the CLI.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JobEvent } from '../../../electron/engine/api';
import { fixturePath } from '../../helpers/fixtures';
import { describeWith } from '../../helpers/needs';
import { runCollecting } from '../../helpers/run-request';
import { rescanPartitions, withLoopDevice } from '../../helpers/loop';
import { readBytesAt, writePatternImage, fillStart } from '../../helpers/bytes';
import { FUSE_CARD_NEEDS, withFuseCard } from '../../helpers/fuse-card';

const MiB = 1 << 20;
const root = join(__dirname, '..', '..', '..');
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cardsmith-flash-'));
  process.env.CARDSMITH_LOG_DIR = join(work, 'logs');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describeWith(['root', 'tool:losetup'], 'flash to a loop device', () => {
  it('writes a raw image, verifies it, zeroes the stale tail and logs every step', async () => {
    const image = writePatternImage(join(work, 'raw.img'), 12 * MiB + 512);
    await withLoopDevice({ sizeBytes: 64 * MiB }, async (loop) => {
      fillStart(loop.device, 0xaa, 64 * MiB);
      const { result, error, events } = await runCollecting({ op: 'flash', source: join(work, 'raw.img'), device: loop.device, allowLoop: true });
      expect(error).toBeUndefined();
      expect(result).toMatchObject({ device: loop.device, bytesWritten: image.length, verified: true });
      expect(readBytesAt(loop.device, 0, image.length).equals(image)).toBe(true);
      expect(readBytesAt(loop.device, 63 * MiB, MiB).every((b) => b === 0)).toBe(true);
      const phases = events.filter((e) => e.type === 'phase').map((e) => `${e.phase}:${e.state}`);
      expect(phases).toEqual(['unmount:start', 'unmount:done', 'write:start', 'write:done', 'bootloader:skipped', 'verify:start', 'verify:done']);
      const log = readFileSync((result as { logFile: string }).logFile, 'utf8');
      expect(log).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z info {2}flash /);
      expect(log).toMatch(/phase write done/);
    });
  });

  it.each([
    ['gz', (p: string) => execFileSync('gzip', ['-kn', p])],
    ['xz', (p: string) => execFileSync('xz', ['-k', '-T2', p])],
    ['zst', (p: string) => execFileSync('zstd', ['-q', '-k', p])],
    ['zip', (p: string) => execFileSync('zip', ['-qj', `${p}.zip`, p])],
  ])('writes a %s-compressed image and verifies it standalone', async (ext, compress) => {
    const path = join(work, `packed-${ext}.img`);
    const image = writePatternImage(path, 6 * MiB + 4096, 7);
    compress(path);
    await withLoopDevice({ sizeBytes: 32 * MiB }, async (loop) => {
      const { result, error } = await runCollecting({ op: 'flash', source: `${path}.${ext}`, device: loop.device, allowLoop: true });
      expect(error).toBeUndefined();
      expect(result).toMatchObject({ bytesWritten: image.length, verified: true });
      expect(readBytesAt(loop.device, 0, image.length).equals(image)).toBe(true);
      const standalone = await runCollecting({ op: 'verify', source: `${path}.${ext}`, device: loop.device, allowLoop: true });
      expect(standalone.result).toMatchObject({ ok: true, bytesChecked: image.length });
    });
  });

  // gz goes through the sources stream; zst and xz through the direct readers (direct-reader.ts).
  for (const [suffix, tool] of [['gz', 'gzip'], ['zst', 'zstd'], ['xz', 'xz']] as const) {
    it(`refuses a truncated .${suffix} image as source-corrupt, leaving the first MiB zeroed`, async () => {
      const path = join(work, `cut-${suffix}.img`);
      writePatternImage(path, 6 * MiB, 8);
      execFileSync(tool, ['-k', '-q', path]);
      const packed = readFileSync(`${path}.${suffix}`);
      const cut = packed.subarray(0, Math.floor(packed.length * 0.7));
      // A cut .gz ends in arbitrary bytes, read as the ISIZE that may refuse the card before anything
      // is decoded (test/integration/sources/flash-source-checks.test.ts); the real trailer kept
      // after the cut leaves the detection to the decoder.
      writeFileSync(`${path}.${suffix}`, suffix === 'gz' ? Buffer.concat([cut, packed.subarray(-8)]) : cut);
      await withLoopDevice({ sizeBytes: 32 * MiB }, async (loop) => {
        fillStart(loop.device, 0x55, 2 * MiB);
        const { error } = await runCollecting({ op: 'flash', source: `${path}.${suffix}`, device: loop.device, allowLoop: true });
        expect(error).toMatchObject({ cause: 'source-corrupt', details: { headZeroed: true } });
        expect(error?.message).toMatch(new RegExp(`${suffix} data is damaged or cut short near compressed byte \\d+`));
        expect(readBytesAt(loop.device, 0, MiB).every((b) => b === 0)).toBe(true);
      });
    });
  }

  it.each([
    ['raw', null],
    ['gz', ['gzip', '-kn']],
    ['xz', ['xz', '-k', '-T2']],
    ['zst', ['zstd', '-q', '-k']],
    ['bz2', ['bzip2', '-k']],
  ] as const)('a %s image cut short of its bmap names both sizes, as every codec does', async (codec, compress) => {
    const dir = join(work, `short-of-bmap-${codec}`);
    mkdirSync(dir);
    const path = join(dir, 'short.img');
    writePatternImage(path, 6 * MiB, 11);
    execFileSync('bmaptool', ['create', '-o', join(dir, 'short.img.bmap'), path], { stdio: 'ignore' });
    const cut = 4 * MiB + 1234;
    execFileSync('truncate', ['-s', `${cut}`, path]);
    if (compress) execFileSync(compress[0], [...compress.slice(1), path]);
    const source = compress ? `${path}.${codec}` : path;
    await withLoopDevice({ sizeBytes: 16 * MiB }, async (loop) => {
      for (const op of ['flash', 'verify'] as const) {
        const { error } = await runCollecting({ op, source, device: loop.device, allowLoop: true });
        expect(error).toMatchObject({ cause: 'bad-input', details: { path: source, imageSize: cut, bmapImageSize: 6 * MiB } });
        expect(error?.message).toMatch(new RegExp(`^The image ${source.replaceAll('.', '\\.')} decodes to ${cut} bytes, but its bmap describes a ${6 * MiB}-byte image \\(ImageSize\\)`));
      }
    });
  });

  it('verify names the range of a single flipped byte, against the image and against its bmap', async () => {
    const path = join(work, 'flip.img');
    writePatternImage(path, 8 * MiB, 3);
    execFileSync('bmaptool', ['create', '-o', join(work, 'flip.bmap'), path], { stdio: 'ignore' });
    await withLoopDevice({ sizeBytes: 16 * MiB }, async (loop) => {
      expect((await runCollecting({ op: 'flash', source: path, device: loop.device, allowLoop: true })).error).toBeUndefined();
      const at = 5 * MiB + 12345;
      const fd = openSync(loop.device, 'r+');
      writeSync(fd, Buffer.from([readBytesAt(loop.device, at, 1)[0]! ^ 0xff]), 0, 1, at);
      closeSync(fd);
      execFileSync('blockdev', ['--flushbufs', loop.device]);
      const vsImage = await runCollecting({ op: 'verify', source: path, device: loop.device, allowLoop: true });
      expect(vsImage.result).toMatchObject({ ok: false, mismatches: [{ start: at, end: at + 1 }] });
      const vsBmap = await runCollecting({ op: 'verify', source: join(work, 'flip.bmap'), device: loop.device, allowLoop: true });
      const mismatches = (vsBmap.result as { mismatches: { start: number; end: number }[] }).mismatches;
      expect(mismatches).toHaveLength(1);
      expect(mismatches[0]!.start <= at && at < mismatches[0]!.end).toBe(true);
    });
  });

  /** 16 MiB image, data at [0, 2) and [10, 12) MiB, holes elsewhere, with its bmap. */
  function sparseImage(): { path: string; bytes: Buffer } {
    const path = join(work, 'sparse.img');
    if (!existsSync(`${path}.bmap`)) {
      const data = writePatternImage(join(work, 'chunk.bin'), 2 * MiB, 9);
      const fd = openSync(path, 'w');
      writeSync(fd, data, 0, data.length, 0);
      writeSync(fd, data, 0, data.length, 10 * MiB);
      closeSync(fd);
      execFileSync('truncate', ['-s', `${16 * MiB}`, path]);
      execFileSync('bmaptool', ['create', '-o', `${path}.bmap`, path], { stdio: 'ignore' });
    }
    return { path, bytes: readFileSync(path) };
  }

  const verifiedBytes = (events: JobEvent[]): number =>
    Number(/^(\d+) bytes identical/.exec(events.flatMap((e) => (e.type === 'phase' && e.phase === 'verify' && e.state === 'done' ? [e.detail ?? ''] : []))[0] ?? '')?.[1]);

  it.each([
    ['skip', false, 4 * MiB],
    ['read-first', true, 16 * MiB],
    ['zero', true, 16 * MiB],
  ] as const)('bmap holes, policy %s, on a card full of old bytes: mapped ranges written, holes zeroed only when the policy says, verify covers what it promises', async (holes, zeroed, checked) => {
    const { path, bytes } = sparseImage();
    await withLoopDevice({ sizeBytes: 32 * MiB }, async (loop) => {
      fillStart(loop.device, 0x5a, 32 * MiB);
      const { result, error, events } = await runCollecting({ op: 'flash', source: path, device: loop.device, allowLoop: true, holes });
      expect(error).toBeUndefined();
      expect(result).toMatchObject({ bytesWritten: 4 * MiB, verified: true });
      const card = readBytesAt(loop.device, 0, 16 * MiB);
      // The first MiB is always the image's (its holes come with the held-back head buffer).
      expect(card.subarray(0, 2 * MiB).equals(bytes.subarray(0, 2 * MiB))).toBe(true);
      expect(card.subarray(10 * MiB, 12 * MiB).equals(bytes.subarray(10 * MiB, 12 * MiB))).toBe(true);
      expect(card.subarray(4 * MiB, 8 * MiB).every((b) => b === (zeroed ? 0 : 0x5a))).toBe(true);
      expect(readBytesAt(loop.device, 16 * MiB, MiB).every((b) => b === 0x5a)).toBe(true);
      expect(verifiedBytes(events)).toBe(checked);
    });
  });

  it.each(['skip', 'read-first'] as const)('policy %s on a blank card: zero data and holes are read, not written (the sparse backing file stays sparse)', async (holes) => {
    // Half random, half zeros without a bmap: the zero chunks are found while streaming.
    const image = Buffer.concat([writePatternImage(join(work, 'half.bin'), 8 * MiB, 4), Buffer.alloc(8 * MiB)]);
    writeFileSync(join(work, 'half.img'), image);
    await withLoopDevice({ sizeBytes: 32 * MiB }, async (loop) => {
      const { result, error, events } = await runCollecting({ op: 'flash', source: join(work, 'half.img'), device: loop.device, allowLoop: true, holes });
      expect(error).toBeUndefined();
      expect(result).toMatchObject({ bytesWritten: image.length, verified: true });
      expect(readBytesAt(loop.device, 0, image.length).equals(image)).toBe(true);
      expect(verifiedBytes(events)).toBe(image.length);
      execFileSync('blockdev', ['--flushbufs', loop.device]);
      // Allocated: the random half and the zeroed last MiB of the card; none of the zero half, though
      // the 4 MiB chunk [5, 9) MiB (chunks run from the end of the first MiB) holds 1 MiB of it.
      expect(statSync(loop.backingFile).blocks * 512).toBeLessThanOrEqual(9 * MiB + 64 * 1024);
    });
  });

  it('policy zero writes every zero chunk; read-first on a card of old bytes writes the zeros it must, then stops reading first', async () => {
    const image = Buffer.concat([writePatternImage(join(work, 'half2.bin'), 8 * MiB, 5), Buffer.alloc(24 * MiB)]);
    writeFileSync(join(work, 'half2.img'), image);
    await withLoopDevice({ sizeBytes: 48 * MiB }, async (loop) => {
      expect((await runCollecting({ op: 'flash', source: join(work, 'half2.img'), device: loop.device, allowLoop: true, holes: 'zero' })).error).toBeUndefined();
      execFileSync('blockdev', ['--flushbufs', loop.device]);
      expect(statSync(loop.backingFile).blocks * 512).toBeGreaterThanOrEqual(33 * MiB);
    });
    await withLoopDevice({ sizeBytes: 48 * MiB }, async (loop) => {
      fillStart(loop.device, 0x5a, 48 * MiB);
      const { error, events } = await runCollecting({ op: 'flash', source: join(work, 'half2.img'), device: loop.device, allowLoop: true, holes: 'read-first' });
      expect(error).toBeUndefined();
      expect(readBytesAt(loop.device, 0, image.length).equals(image)).toBe(true);
      // Zero runs at [8, 9), [9, 13), [13, 17), [17, 21) MiB all found old bytes: the fifth is written unread.
      const gaveUp = events.filter((e) => e.type === 'log' && /the card holds old data/.test(e.message));
      expect(gaveUp).toHaveLength(1);
      expect(gaveUp[0]).toMatchObject({ message: expect.stringContaining(`byte ${17 * MiB}`) });
    });
  });

  it('refuses a card too small before writing anything', async () => {
    writePatternImage(join(work, 'big.img'), 20 * MiB);
    await withLoopDevice({ sizeBytes: 16 * MiB }, async (loop) => {
      fillStart(loop.device, 0x33, 16 * MiB);
      const { error } = await runCollecting({ op: 'flash', source: join(work, 'big.img'), device: loop.device, allowLoop: true });
      expect(error).toMatchObject({ cause: 'too-small', details: { imageBytes: 20 * MiB, deviceBytes: 16 * MiB } });
      expect(error?.logFile).toMatch(/flash-.*loop\d+\.log$/);
      expect(readBytesAt(loop.device, 0, 16 * MiB).every((b) => b === 0x33)).toBe(true);
    });
  });

  it('refuses loop devices unless allowed', async () => {
    writePatternImage(join(work, 'small.img'), MiB);
    await withLoopDevice({ sizeBytes: 8 * MiB }, async (loop) => {
      const { error } = await runCollecting({ op: 'flash', source: join(work, 'small.img'), device: loop.device });
      expect(error).toMatchObject({ cause: 'unsafe-target' });
      expect(error?.message).toMatch(/loop device/);
    });
  });

  it('cancel mid-write stops and leaves the first MiB zeroed', async () => {
    const path = join(work, 'cancel.img');
    writePatternImage(path, 4 * MiB, 5);
    execFileSync('truncate', ['-s', `${768 * MiB}`, path]);
    await withLoopDevice({ sizeBytes: 800 * MiB, ram: true }, async (loop) => {
      fillStart(loop.device, 0x77, 2 * MiB);
      let abortedAt = 0;
      const { error } = await runCollecting({ op: 'flash', source: path, device: loop.device, allowLoop: true }, (event, abort) => {
        if (event.type === 'progress' && event.bytesDone > 0 && abortedAt === 0) {
          abortedAt = performance.now();
          abort();
        }
      });
      const stoppedAfter = performance.now() - abortedAt;
      expect(error).toMatchObject({ cause: 'cancelled', details: { headZeroed: true } });
      expect(error?.message).toMatch(/first MiB .* is zeroed/);
      expect(stoppedAfter).toBeLessThan(1000);
      expect(readBytesAt(loop.device, 0, MiB).every((b) => b === 0)).toBe(true);
    });
  });
});

describeWith(['root', 'tool:losetup', 'tool:mkfs.ext4', 'tool:sfdisk', 'tool:partx'], 'flash to a card with a mounted partition', () => {
  function partitionedCard(loop: string, mount: string): void {
    execFileSync('sfdisk', ['-q', loop], { input: 'label: dos\nstart=2048, type=83\n' });
    rescanPartitions(loop);
    execFileSync('mkfs.ext4', ['-q', `${loop}p1`]);
    mkdirSync(mount, { recursive: true });
    execFileSync('mount', [`${loop}p1`, mount]);
  }
  const mounted = (mount: string): boolean => spawnSync('mountpoint', ['-q', mount]).status === 0;

  it('unmounts the partition, then writes', async () => {
    const image = writePatternImage(join(work, 'over-mounted.img'), 3 * MiB, 11);
    await withLoopDevice({ sizeBytes: 32 * MiB, partscan: true }, async (loop) => {
      const mount = join(work, 'mnt-a');
      partitionedCard(loop.device, mount);
      try {
        const { result, error, events } = await runCollecting({ op: 'flash', source: join(work, 'over-mounted.img'), device: loop.device, allowLoop: true });
        expect(error).toBeUndefined();
        expect(result).toMatchObject({ verified: true });
        expect(mounted(mount)).toBe(false);
        expect(events.some((e) => e.type === 'log' && /unmounted .*mnt-a/.test(e.message))).toBe(true);
        expect(readBytesAt(loop.device, 0, image.length).equals(image)).toBe(true);
      } finally {
        if (mounted(mount)) execFileSync('umount', [mount]);
        spawnSync('partx', ['-d', loop.device]);
      }
    });
  });

  it('refuses a partition of a card, naming the whole card, without writing', async () => {
    writePatternImage(join(work, 'to-partition.img'), MiB, 13);
    await withLoopDevice({ sizeBytes: 32 * MiB, partscan: true }, async (loop) => {
      execFileSync('sfdisk', ['-q', loop.device], { input: 'label: dos\nstart=2048, type=83\n' });
      rescanPartitions(loop.device);
      try {
        const before = readBytesAt(loop.partition(1), 0, 2 * MiB);
        const { error } = await runCollecting({ op: 'flash', source: join(work, 'to-partition.img'), device: loop.partition(1), allowLoop: true });
        expect(error).toMatchObject({ cause: 'unsafe-target', details: { device: loop.partition(1), disk: loop.device } });
        expect(error?.message).toMatch(/is a partition of .*choose the whole card/);
        expect(readBytesAt(loop.partition(1), 0, 2 * MiB).equals(before)).toBe(true);
      } finally {
        spawnSync('partx', ['-d', loop.device]);
      }
    });
  });

  it('refuses, without writing, when the partition cannot be unmounted', async () => {
    writePatternImage(join(work, 'over-busy.img'), 3 * MiB, 12);
    await withLoopDevice({ sizeBytes: 32 * MiB, partscan: true }, async (loop) => {
      const mount = join(work, 'mnt-b');
      partitionedCard(loop.device, mount);
      const before = readBytesAt(loop.device, 0, 4 * MiB);
      const holder: ChildProcess = spawn('sleep', ['60'], { cwd: mount, stdio: 'ignore' });
      try {
        const { error } = await runCollecting({ op: 'flash', source: join(work, 'over-busy.img'), device: loop.device, allowLoop: true });
        expect(error).toMatchObject({ cause: 'busy' });
        expect(error?.message).toMatch(/mnt-b/);
        expect(mounted(mount)).toBe(true);
        expect(readBytesAt(loop.device, 0, 4 * MiB).equals(before)).toBe(true);
      } finally {
        holder.kill();
        await new Promise((resolve) => holder.once('exit', resolve));
        if (mounted(mount)) execFileSync('umount', [mount]);
        spawnSync('partx', ['-d', loop.device]);
      }
    });
  });
});

describeWith(FUSE_CARD_NEEDS, 'a card that fails', () => {
  it('mid-write ends with an I/O error naming the offset, and the first MiB zeroed', async () => {
    const bad = { start: 10 * MiB + 4096, end: 11 * MiB };
    writePatternImage(join(work, 'eio.img'), 20 * MiB, 13);
    await withFuseCard({ sizeBytes: 64 * MiB, bad }, async (device) => {
      const { error } = await runCollecting({ op: 'flash', source: join(work, 'eio.img'), device, allowLoop: true });
      expect(error).toMatchObject({ cause: 'io', details: { code: 'EIO', headZeroed: true } });
      const { offset, length } = error?.details as { offset: number; length: number };
      expect(offset).toBeLessThanOrEqual(bad.start);
      expect(offset + length).toBeGreaterThan(bad.start);
      expect(error?.message).toContain(`at byte ${offset}`);
      expect(readFileSync(error?.logFile as string, 'utf8')).toMatch(/error io: I\/O error writing/);
    });
  });

  it.each([['raw', 'lost.img'], ['xz (hashed while written)', 'lost.img.xz']])('that loses what was written fails the %s verify with the ranges', async (_kind, name) => {
    writePatternImage(join(work, 'lost.img'), 3 * MiB, 21);
    execFileSync('xz', ['-k', '-f', '-0', join(work, 'lost.img')]);
    await withFuseCard({ sizeBytes: 64 * MiB }, async (device) => {
      const { error } = await runCollecting({ op: 'flash', source: join(work, name), device, allowLoop: true });
      expect(error).toMatchObject({ cause: 'checksum-mismatch' });
      const details = error?.details as { mismatches: { start: number; end: number }[]; mismatchCount: number; mismatchBytes: number };
      expect(details.mismatches[0]?.start).toBeLessThan(4096);
      expect(details.mismatches.length).toBe(Math.min(32, details.mismatchCount));
      // The error carries the first ranges; the job's log has every one, the last ending with the image.
      const logged = [...readFileSync(error?.logFile as string, 'utf8').matchAll(/mismatch (\d+)\.\.(\d+)/g)];
      expect(logged).toHaveLength(details.mismatchCount);
      expect(Number(logged.at(-1)?.[2]) + 1).toBe(3 * MiB);
      expect(details.mismatchBytes).toBe(logged.reduce((sum, m) => sum + Number(m[2]) + 1 - Number(m[1]), 0));
    });
  });
});

const SUNXI_SPL = fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot/orangepi_zero/u-boot-sunxi-with-spl.bin');

describeWith(['root', 'tool:losetup', 'tool:sfdisk', `file:${SUNXI_SPL}`], 'verify --board', () => {
  it('judges the loader region by the board, not by the image', async () => {
    const path = join(work, 'board.img');
    writePatternImage(path, 8 * MiB, 23);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(MiB), 0, MiB, 0);
    closeSync(fd);
    execFileSync('sfdisk', ['-q', path], { input: 'label: dos\nstart=2048, type=83\n' });
    const loader = readFileSync(SUNXI_SPL);
    await withLoopDevice({ sizeBytes: 16 * MiB }, async (loop) => {
      expect((await runCollecting({ op: 'flash', source: path, device: loop.device, allowLoop: true })).error).toBeUndefined();
      // What `cardsmith bootloader` does after the image: the loader at 8 KiB.
      const card = openSync(loop.device, 'r+');
      writeSync(card, loader, 0, loader.length, 8192);
      closeSync(card);
      execFileSync('blockdev', ['--flushbufs', loop.device]);
      const plain = await runCollecting({ op: 'verify', source: path, device: loop.device, allowLoop: true });
      expect((plain.result as { ok: boolean }).ok).toBe(false);
      const withBoard = await runCollecting({ op: 'verify', source: path, device: loop.device, board: 'orangepi-zero', allowLoop: true });
      expect(withBoard.error).toBeUndefined();
      expect(withBoard.result).toMatchObject({ ok: true, mismatches: [] });

      const damaged = openSync(loop.device, 'r+');
      writeSync(damaged, Buffer.from([loader[600]! ^ 0xff]), 0, 1, 8192 + 600);
      closeSync(damaged);
      execFileSync('blockdev', ['--flushbufs', loop.device]);
      const broken = await runCollecting({ op: 'verify', source: path, device: loop.device, board: 'orangepi-zero', allowLoop: true });
      expect(broken.result).toMatchObject({ ok: false });
      const ranges = (broken.result as { mismatches: { start: number; end: number }[] }).mismatches;
      expect(ranges.some((r) => r.start <= 8192 + 600 && 8192 + 600 < r.end)).toBe(true);
    });
  });
});

describeWith(['root', 'tool:losetup'], 'the cardsmith CLI', () => {
  it('flash --allow-loop --yes --json prints NDJSON events ending in the result; verify exits 0', async () => {
    execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), 'cli'], { cwd: root });
    const image = writePatternImage(join(work, 'cli.img'), 5 * MiB, 17);
    await withLoopDevice({ sizeBytes: 16 * MiB }, async (loop) => {
      const cli = (args: string[]): { status: number | null; stdout: string } =>
        spawnSync(process.execPath, [join(root, 'bin/cardsmith.cjs'), ...args], { encoding: 'utf8', env: { ...process.env } });
      const out = cli(['flash', join(work, 'cli.img'), '--device', loop.device, '--allow-loop', '--yes', '--json']);
      expect(out.status).toBe(0);
      const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as JobEvent);
      expect(lines.at(-1)).toMatchObject({ type: 'result', op: 'flash', result: { device: loop.device, bytesWritten: image.length, verified: true } });
      expect(cli(['verify', '--device', loop.device, join(work, 'cli.img'), '--allow-loop']).status).toBe(0);
      const refused = cli(['flash', join(work, 'cli.img'), '--device', loop.device, '--json']);
      expect(refused.status).toBe(2);
    });
  });
});
