/**
 * What the image's own metadata promises is enforced while flashing a loop device: each block map
 * range's checksum (bmaptool refuses such an image too), and the size a gzip trailer proves the
 * image has at least, which must be refused before the card is touched.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseBmap, rangeBytes } from '../../../electron/engine/sources/bmap';
import { asVersion, VERSIONS } from '../../helpers/bmap-layouts';
import { fillStart, readBytesAt, sha256OfRange } from '../../helpers/bytes';
import { withLoopDevice } from '../../helpers/loop';
import { describeWith } from '../../helpers/needs';
import { runCollecting } from '../../helpers/run-request';
import { compressibleBytes, MiB } from './run-job';

describeWith(['root', 'tool:losetup', 'tool:bmaptool', 'tool:gzip'], 'flash enforces what the image metadata promises', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-srcchk-'));
  const sparse = join(dir, 'sparse.img');
  let changedAt = 0;

  beforeAll(() => {
    process.env.CARDSMITH_LOG_DIR = join(dir, 'logs');
    // Data at 0..2 MiB and 10..12 MiB of a 16 MiB image: two mapped ranges.
    const data = compressibleBytes(2 * MiB, 3);
    const fd = openSync(sparse, 'w');
    writeSync(fd, data, 0, data.length, 0);
    writeSync(fd, data, 0, data.length, 10 * MiB);
    closeSync(fd);
    execFileSync('truncate', ['-s', `${16 * MiB}`, sparse]);
    execFileSync('bmaptool', ['create', '-o', `${sparse}.bmap`, sparse], { stdio: 'ignore' });
    // One byte inside the second mapped range changed after the map was made.
    changedAt = 11 * MiB + 777;
    const edit = openSync(sparse, 'r+');
    writeSync(edit, Buffer.from([data[MiB + 777]! ^ 0x40]), 0, 1, changedAt);
    closeSync(edit);
    execFileSync('gzip', ['-kn', sparse]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('bmaptool itself refuses the changed image (the oracle)', async () => {
    await withLoopDevice({ sizeBytes: 32 * MiB }, async (loop) => {
      const copy = spawnSync('bmaptool', ['copy', '--bmap', `${sparse}.bmap`, sparse, loop.device], { encoding: 'utf8' });
      expect(copy.status).not.toBe(0);
      expect(copy.stderr).toMatch(/checksum mismatch/);
    });
  });

  // The raw file goes through the direct reader, the .gz through the decoding stream.
  it.each([
    ['raw', ''],
    ['gzip', '.gz'],
  ])('a %s image with one byte changed in a mapped range stops as source-corrupt naming the range', async (_kind, suffix) => {
    const bmap = parseBmap(readFileSync(`${sparse}.bmap`, 'utf8'));
    const second = rangeBytes(bmap, bmap.ranges[1]!);
    expect(second.start <= changedAt && changedAt < second.end).toBe(true);
    await withLoopDevice({ sizeBytes: 32 * MiB }, async (loop) => {
      fillStart(loop.device, 0x55, 2 * MiB);
      const { result, error } = await runCollecting({ op: 'flash', source: `${sparse}${suffix}`, device: loop.device, allowLoop: true });
      expect(result).toBeUndefined();
      expect(error).toMatchObject({ cause: 'source-corrupt', details: { range: 2, start: second.start, end: second.end, expected: bmap.ranges[1]!.checksum, headZeroed: true } });
      expect(error?.message).toContain(`block map range 2 (bytes ${second.start}..${second.end - 1})`);
      expect(readBytesAt(loop.device, 0, MiB).every((b) => b === 0)).toBe(true);
    });
  });

  it('verify against the changed image and its bmap fails the same way (holes skipped, ranges hashed)', async () => {
    await withLoopDevice({ sizeBytes: 32 * MiB }, async (loop) => {
      const { error } = await runCollecting({ op: 'verify', source: sparse, device: loop.device, allowLoop: true });
      expect(error).toMatchObject({ cause: 'source-corrupt', details: { range: 2 } });
    });
  });

  it.each(VERSIONS)('verify against a %s bmap alone checks the card by its range checksums', async (version) => {
    const path = join(dir, `plain-${version.replace('.', '')}.img`);
    const data = compressibleBytes(3 * MiB, 11);
    writeFileSync(path, data);
    execFileSync('truncate', ['-s', `${8 * MiB}`, path]);
    const map = join(dir, `plain-${version.replace('.', '')}.bmap`);
    writeFileSync(map, asVersion(execFileSync('bmaptool', ['create', path], { stdio: ['ignore', 'pipe', 'ignore'] }).toString(), version, readFileSync(path)));
    await withLoopDevice({ sizeBytes: 16 * MiB }, async (loop) => {
      expect((await runCollecting({ op: 'flash', source: path, device: loop.device, allowLoop: true })).error).toBeUndefined();
      const intact = await runCollecting({ op: 'verify', source: map, device: loop.device, allowLoop: true });
      expect(intact.error).toBeUndefined();
      expect(intact.result).toMatchObject({ ok: true, bytesChecked: 3 * MiB });
      const fd = openSync(loop.device, 'r+');
      writeSync(fd, Buffer.from([data[2 * MiB]! ^ 0x01]), 0, 1, 2 * MiB);
      closeSync(fd);
      execFileSync('blockdev', ['--flushbufs', loop.device]);
      const flipped = await runCollecting({ op: 'verify', source: map, device: loop.device, allowLoop: true });
      expect(flipped.result).toMatchObject({ ok: false, mismatches: [{ start: 0, end: 3 * MiB }] });
    });
  });

  it('refuses a card smaller than a gzip trailer says the image is, before touching it', async () => {
    const path = join(dir, 'big.img');
    writeFileSync(path, compressibleBytes(24 * MiB, 5));
    execFileSync('gzip', ['-n', path]);
    await withLoopDevice({ sizeBytes: 16 * MiB }, async (loop) => {
      fillStart(loop.device, 0x33, 16 * MiB);
      const before = sha256OfRange(loop.device, 16 * MiB);
      const { error, events } = await runCollecting({ op: 'flash', source: `${path}.gz`, device: loop.device, allowLoop: true });
      expect(error).toMatchObject({ cause: 'too-small', details: { imageBytes: 24 * MiB, deviceBytes: 16 * MiB } });
      expect(error?.message).toMatch(/needs at least 25165824 bytes/);
      expect(events.some((e) => e.type === 'phase' && e.phase === 'unmount')).toBe(false);
      expect(sha256OfRange(loop.device, 16 * MiB)).toBe(before);
    });
  });
});
