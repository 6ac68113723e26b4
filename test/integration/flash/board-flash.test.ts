/**
 * Flash with a board: the board's loader written by the planner's plan through the flash writer
 * (and verified), an overlapping layout refused before any write, and a recipe built at the card's
 * size and flashed in one step (root partition to the card's end, no temporary image left), its
 * rootfs named by a URL or a catalog id fetched first.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JobEvent } from '../../../electron/engine/api';
import { readDiskLayout } from '../../../electron/engine/disk/read-layout';
import { runRequest } from '../../../electron/engine/operations';
import { debPath, fixturePath } from '../../helpers/fixtures';
import { detachLoop, withLoopDevice } from '../../helpers/loop';
import { describeWith } from '../../helpers/needs';
import { runCollecting } from '../../helpers/run-request';
import { makeRootfs } from '../compose/fixture';
import { readBytesAt } from '../../helpers/bytes';
import { startTestServer } from '../sources/test-server';

const MiB = 1 << 20;
let work = '';

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cardsmith-board-flash-'));
  process.env.CARDSMITH_LOG_DIR = join(work, 'logs');
  process.env.CARDSMITH_CACHE = join(work, 'cache');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A 32 MiB MBR image, one Linux partition at `startSector`, a pattern at 8 MiB, no loader. */
function imageWithPartition(name: string, startSector: number): string {
  const path = join(work, name);
  writeFileSync(path, Buffer.alloc(32 * MiB));
  execFileSync('sfdisk', ['--quiet', path], { input: `label: dos\nstart=${startSector}, type=83\n` });
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Buffer.alloc(64 * 1024, 0x5a), 0, 64 * 1024, 8 * MiB);
  } finally {
    closeSync(fd);
  }
  return path;
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describeWith(['root', 'tool:losetup', 'tool:sfdisk', `file:${fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot/nanopi_neo')}`], 'flash --board writes the loader', () => {
  const loaderDir = fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot/nanopi_neo');
  const spl = readFileSync(join(loaderDir, 'u-boot-sunxi-with-spl.bin'));

  it('writes the loader at 8 KiB through the flash writer, and verify covers it', async () => {
    const image = imageWithPartition('plain.img', 2048 * 4);
    await withLoopDevice({ sizeBytes: 64 * MiB }, async (loop) => {
      const { result, error, events } = await runCollecting({ op: 'flash', source: image, device: loop.device, board: 'nanopi-neo', loaderFrom: loaderDir, allowLoop: true });
      expect(error).toBeUndefined();
      expect(result).toMatchObject({ verified: true });
      expect(events).toContainEqual(expect.objectContaining({ type: 'phase', phase: 'bootloader', state: 'done' }));
      expect(readBytesAt(loop.device, 8192, spl.length).equals(spl)).toBe(true);
      // The image's table and data are there too; the loader did not trample the MBR.
      expect(readBytesAt(loop.device, 0, 512).equals(readBytesAt(image, 0, 512))).toBe(true);
      expect(readBytesAt(loop.device, 8 * MiB, 64 * 1024).equals(readBytesAt(image, 8 * MiB, 64 * 1024))).toBe(true);

      // Flashing the card's own bytes again without a loader source: the loader is already there.
      const copy = join(work, 'with-loader.img');
      writeFileSync(copy, readBytesAt(loop.device, 0, 32 * MiB));
      const again = await runCollecting({ op: 'flash', source: copy, device: loop.device, board: 'nanopi-neo', allowLoop: true });
      expect(again.error).toBeUndefined();
      expect(again.events).toContainEqual(expect.objectContaining({ type: 'phase', phase: 'bootloader', state: 'skipped', detail: expect.stringMatching(/already holds a valid loader/) }));
    });
  });

  it('without a loader source and none in the image: a bad-input error saying where to get it, card untouched', async () => {
    const image = imageWithPartition('no-loader.img', 2048 * 4);
    await withLoopDevice({ sizeBytes: 32 * MiB }, async (loop) => {
      writeFileSync(loop.device, Buffer.alloc(2 * MiB, 0xab));
      const before = sha(loop.device);
      const { error } = await runCollecting({ op: 'flash', source: image, device: loop.device, board: 'nanopi-neo', allowLoop: true });
      expect(error?.cause).toBe('bad-input');
      expect(error?.hint).toMatch(/--loader-from/);
      expect(sha(loop.device)).toBe(before);
    });
  });

  it('refuses a layout the loader would overlap before writing anything', async () => {
    // The partition starts at 64 KiB, inside the SPL's slot (8 KiB .. 8 KiB + ~600 KiB).
    const image = imageWithPartition('overlap.img', 128);
    await withLoopDevice({ sizeBytes: 32 * MiB }, async (loop) => {
      writeFileSync(loop.device, Buffer.alloc(2 * MiB, 0xab));
      const before = sha(loop.device);
      const { error } = await runCollecting({ op: 'flash', source: image, device: loop.device, board: 'nanopi-neo', loaderFrom: loaderDir, allowLoop: true });
      expect(error?.cause).toBe('overlap');
      expect(sha(loop.device)).toBe(before);
    });
  });
});

describeWith(['root', 'tool:losetup', 'tool:sfdisk', 'tool:xz', `file:${debPath('u-boot-rockchip_arm64')}`], 'flash --board with a loader past the first MiB', () => {
  it('writes idbloader (first MiB) and u-boot.itb (8 MiB) from the .deb, verified for a raw and an xz image', async () => {
    const raw = imageWithPartition('rock64.img', 32768);
    execFileSync('xz', ['-0', '-k', '-T1', raw]);
    const folder = fixturePath('u-boot-rockchip_arm64', 'usr/lib/u-boot/rock64-rk3328');
    const idb = readFileSync(join(folder, 'idbloader.img'));
    const itb = readFileSync(join(folder, 'u-boot.itb'));
    for (const source of [raw, `${raw}.xz`]) {
      await withLoopDevice({ sizeBytes: 64 * MiB }, async (loop) => {
        const { result, error } = await runCollecting({ op: 'flash', source, device: loop.device, board: 'rock64', loaderFrom: debPath('u-boot-rockchip_arm64'), allowLoop: true });
        expect(error).toBeUndefined();
        expect(result).toMatchObject({ verified: true });
        expect(readBytesAt(loop.device, 32 * 1024, idb.length).equals(idb)).toBe(true);
        expect(readBytesAt(loop.device, 8 * MiB, itb.length).equals(itb)).toBe(true);
        expect(readBytesAt(loop.device, 0, 512).equals(readBytesAt(raw, 0, 512))).toBe(true);
      });
    }
  });
});

const ORANGEPI_LOADER = fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot/orangepi_plus');

describeWith(['root', 'tool:losetup', 'tool:e2fsck', 'tool:dumpe2fs', 'tool:sfdisk', `file:${ORANGEPI_LOADER}`], 'build and flash in one step', () => {
  it('fills a 512 MiB card: root partition to the card end, clean ext4 at partition size, no temp image left', async () => {
    const rootfs = makeRootfs(join(work, 'rootfs'));
    await withLoopDevice({ sizeBytes: 512 * MiB }, async (loop) => {
      // Stale bytes in what will be a hole of the image: with holes 'zero' they read as zeros afterwards.
      const stale = openSync(loop.device, 'r+');
      writeSync(stale, Buffer.alloc(MiB, 0xcd), 0, MiB, 500 * MiB);
      closeSync(stale);
      const { result, error, events } = await runCollecting({
        op: 'flash',
        build: { board: 'orangepi-plus', rootfs: rootfs.tarball, rootSize: { mode: 'fill' }, loaderFrom: ORANGEPI_LOADER },
        device: loop.device,
        holes: 'zero',
        allowLoop: true,
      });
      expect(error).toBeUndefined();
      expect(result).toMatchObject({ verified: true });
      const phases = events.flatMap((e) => (e.type === 'phase' && e.state === 'start' ? [e.phase] : []));
      expect(phases[0]).toBe('build');
      expect(phases).toContain('verify');
      expect(events).toContainEqual(expect.objectContaining({ type: 'phase', phase: 'write', state: 'done', detail: expect.stringMatching(/zeroed by the device/) }));
      expect(readBytesAt(loop.device, 500 * MiB, MiB).equals(Buffer.alloc(MiB))).toBe(true);

      const fd = openSync(loop.device, 'r');
      const layout = await readDiskLayout(async (offset, length) => {
        const out = Buffer.alloc(length);
        const got = readSync(fd, out, 0, length, offset);
        return out.subarray(0, got);
      }, 512 * MiB).finally(() => closeSync(fd));
      const rootPart = layout.partitions.at(-1)!;
      expect(rootPart.start + rootPart.size).toBe(512 * MiB);

      const part = execFileSync('losetup', ['--find', '--show', '--read-only', '--offset', String(rootPart.start), '--sizelimit', String(rootPart.size), loop.device], { encoding: 'utf8' }).trim();
      try {
        execFileSync('e2fsck', ['-fn', part], { stdio: 'pipe' });
        const header = execFileSync('dumpe2fs', ['-h', part], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        const blocks = Number(/Block count:\s+(\d+)/.exec(header)?.[1]);
        const blockSize = Number(/Block size:\s+(\d+)/.exec(header)?.[1]);
        expect(blocks * blockSize).toBe(rootPart.size);
      } finally {
        detachLoop(part);
      }
      const builds = join(work, 'cache', 'builds');
      expect(readdirSync(builds)).toEqual([]);
    });
  });

  it('cancelled while writing: the temporary image is removed and the first MiB left zeroed', async () => {
    const rootfs = makeRootfs(join(work, 'rootfs-cancel'));
    await withLoopDevice({ sizeBytes: 256 * MiB }, async (loop) => {
      const controller = new AbortController();
      const events: JobEvent[] = [];
      await runRequest(
        { op: 'flash', build: { board: 'orangepi-plus', rootfs: rootfs.tarball, rootSize: { mode: 'fill' }, loaderFrom: ORANGEPI_LOADER }, device: loop.device, allowLoop: true },
        (event) => {
          events.push(event);
          if (event.type === 'phase' && event.phase === 'write' && event.state === 'start') controller.abort();
        },
        controller.signal,
      );
      expect(events.at(-1)).toMatchObject({ type: 'error', error: { cause: 'cancelled' } });
      expect(readdirSync(join(work, 'cache', 'builds'))).toEqual([]);
      expect(readBytesAt(loop.device, 0, MiB).equals(Buffer.alloc(MiB))).toBe(true);
    });
  });

  it('fetches a rootfs named by URL or by catalog id from a real server before building it', async () => {
    const rootfs = makeRootfs(join(work, 'rootfs-remote'));
    const tarball = readFileSync(rootfs.tarball);
    const server = await startTestServer();
    try {
      const url = server.add('/rootfs/root.tar.gz', tarball);
      const catalog = server.add(
        '/cardsmith.json',
        JSON.stringify({
          format: 'cardsmith-catalog/1',
          entries: [{ id: 'lab-rootfs', name: 'Lab rootfs', kind: 'rootfs', boards: ['orangepi-plus'], url, sha256: createHash('sha256').update(tarball).digest('hex'), loader: { from: 'board' } }],
        }),
      );
      for (const reference of [url, 'lab-rootfs']) {
        await withLoopDevice({ sizeBytes: 128 * MiB }, async (loop) => {
          const { result, error, events } = await runCollecting({
            op: 'flash',
            build: { board: 'orangepi-plus', rootfs: reference, loaderFrom: ORANGEPI_LOADER },
            device: loop.device,
            allowLoop: true,
            settings: { catalogUrls: [catalog] },
          });
          expect(error).toBeUndefined();
          expect(result).toMatchObject({ verified: true });
          const phases = events.flatMap((e) => (e.type === 'phase' && e.state === 'start' ? [e.phase] : []));
          expect(phases.slice(0, 2)).toEqual(['fetch', 'build']);
          const layout = await readDiskLayout(async (offset, length) => readBytesAt(loop.device, offset, length), 128 * MiB);
          expect(layout.partitions.length).toBeGreaterThan(0);
        });
      }
      // The second build found the tarball in the cache: one download for both.
      expect(server.log.filter((entry) => entry.path === '/rootfs/root.tar.gz' && entry.status === 200)).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('builds a GPT image from the CLI that sfdisk --verify accepts, and a fill image for a card size', () => {
    const rootfs = makeRootfs(join(work, 'rootfs-cli'));
    const cli = join(__dirname, '..', '..', '..', 'bin', 'cardsmith.cjs');
    const gpt = join(work, 'gpt.img');
    execFileSync('node', [cli, 'build', '--board', 'orangepi-plus', '--rootfs', rootfs.tarball, '--loader-from', ORANGEPI_LOADER, '--table', 'gpt', '-o', gpt], { stdio: 'pipe' });
    expect(execFileSync('sfdisk', ['--verify', gpt], { encoding: 'utf8' })).toMatch(/No errors detected/);
    expect(JSON.parse(execFileSync('sfdisk', ['--json', gpt], { encoding: 'utf8' })).partitiontable.label).toBe('gpt');

    const fill = join(work, 'fill.img');
    execFileSync('node', [cli, 'build', '--board', 'orangepi-plus', '--rootfs', rootfs.tarball, '--loader-from', ORANGEPI_LOADER, '--root-size', 'fill', '--card-size', '256M', '-o', fill], { stdio: 'pipe' });
    const parts = JSON.parse(execFileSync('sfdisk', ['--json', fill], { encoding: 'utf8' })).partitiontable.partitions as { start: number; size: number }[];
    expect((parts.at(-1)!.start + parts.at(-1)!.size) * 512).toBe(256 * MiB);
  });
});
