/**
 * The drive scanner and the writer's own target check on the real host: lsblk, sysfs, the mount
 * table and loop devices standing in for cards.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkTarget } from '../../../electron/engine/drives/safety';
import { scanDrives } from '../../../electron/engine/drives/scan';
import { watchDrives } from '../../../electron/engine/drives/watch';
import type { Drive } from '../../../electron/engine/drives/model';
import { CardsmithError } from '../../../electron/engine/errors';
import { describeWith } from '../../helpers/needs';
import { attachLoop, createSparseFile, detachLoop, withLoopDevice } from '../../helpers/loop';

const MiB = 1 << 20;
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cardsmith-drives-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function refusal(promise: Promise<unknown>): Promise<CardsmithError['info']> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CardsmithError) return error.info;
    throw error;
  }
  throw new Error('expected a refusal');
}

describeWith(['root', 'tool:losetup', 'tool:lsblk'], 'drive scanner on this host', () => {
  it('offers a loop device only with allowLoop, and never the OS disk', async () => {
    await withLoopDevice({ sizeBytes: 24 * MiB }, async (loop) => {
      expect((await scanDrives()).some((d) => d.device === loop.device)).toBe(false);
      const withLoops = await scanDrives({ allowLoop: true });
      expect(withLoops.find((d) => d.device === loop.device)).toMatchObject({ readerKind: 'loop', sizeBytes: 24 * MiB, unsafeReasons: [] });
      const all = await scanDrives({ all: true });
      const root = all.find((d) => d.mountpoints.includes('/'));
      expect(root?.unsafeReasons.join()).toMatch(/system drive/);
      expect(withLoops.some((d) => d.device === root?.device)).toBe(false);
    });
  });

  it('sees a card arrive and leave while watching', async () => {
    const seen: Drive[][] = [];
    const stop = watchDrives({ allowLoop: true }, (drives) => seen.push(drives), (error) => { throw error; }, 100);
    const until = async (check: () => boolean): Promise<void> => {
      for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
    };
    try {
      await until(() => seen.length > 0);
      const file = join(work, 'watched.img');
      createSparseFile(file, 20 * MiB);
      const device = attachLoop(file);
      try {
        await until(() => seen.at(-1)?.some((d) => d.device === device) === true);
        expect(seen.at(-1)?.some((d) => d.device === device)).toBe(true);
      } finally {
        detachLoop(device);
      }
      await until(() => seen.at(-1)?.some((d) => d.device === device) === false);
      expect(seen.at(-1)?.some((d) => d.device === device)).toBe(false);
    } finally {
      stop();
    }
  });

  it('the target check refuses files, missing devices, partitions and the OS disk', async () => {
    const file = join(work, 'plain.img');
    writeFileSync(file, Buffer.alloc(4096));
    expect(await refusal(checkTarget(file, { allowLoop: true }))).toMatchObject({ cause: 'unsafe-target' });
    expect(await refusal(checkTarget('/dev/does-not-exist', { allowLoop: true }))).toMatchObject({ cause: 'device-gone' });
    const root = (await scanDrives({ all: true })).find((d) => d.mountpoints.includes('/'));
    expect(root, 'the scanner found no drive holding /').toBeDefined();
    expect(await refusal(checkTarget(root!.device, { allowLoop: true }))).toMatchObject({ cause: 'unsafe-target', message: expect.stringMatching(/system|\//) });
  });
});

describeWith(['root', 'tool:losetup', 'tool:mkfs.ext4', 'tool:sfdisk', 'tool:partx'], 'the drive holding the image', () => {
  it('is refused as a target, and its partitions are refused as partitions', async () => {
    await withLoopDevice({ sizeBytes: 32 * MiB }, async (loop) => {
      execFileSync('sfdisk', ['-q', loop.device], { input: 'label: dos\nstart=2048, type=83\n' });
      spawnSync('partx', ['--add', loop.device]);
      execFileSync('mkfs.ext4', ['-q', loop.partition(1)]);
      const mount = join(work, 'images');
      mkdirSync(mount, { recursive: true });
      execFileSync('mount', [loop.partition(1), mount]);
      try {
        const image = join(mount, 'os.img');
        writeFileSync(image, Buffer.alloc(MiB, 1));
        const drive = (await scanDrives({ allowLoop: true, all: true, sourcePath: image })).find((d) => d.device === loop.device);
        expect(drive?.unsafeReasons).toContain('holds the source image');
        expect(await refusal(checkTarget(loop.device, { allowLoop: true, sourcePath: image }))).toMatchObject({ cause: 'unsafe-target' });
        const partition = await refusal(checkTarget(loop.partition(1), { allowLoop: true }));
        expect(partition).toMatchObject({ cause: 'unsafe-target' });
        expect(partition.message).toMatch(/is a partition of/);
      } finally {
        execFileSync('umount', [mount]);
        spawnSync('partx', ['--delete', loop.device]);
      }
    });
  });
});
