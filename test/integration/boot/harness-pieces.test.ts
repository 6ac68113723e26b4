// The boot harness's host-facing pieces against real tools: GNU tar reads the ustar writer's
// archives, mkfs.vfat + mcopy make the FAT12/16/32 filesystems the FAT reader must read, qemu-img
// reports the overlay it made, and the console watcher stops only its own process group.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { copySparse, createOverlay, mbrPartitions, nextPowerOfTwo, readAt } from '../../boot/card-file';
import { listFatRoot, readFatFile } from '../../boot/fat-reader';
import { runQemu } from '../../boot/qemu';
import { ustarArchive } from '../../boot/tar';
import { file, symlink, withParents } from '../../boot/tree';
import { describeWith } from '../../helpers/needs';

const work = mkdtempSync(join(tmpdir(), 'cardsmith-boot-pieces-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describeWith(['tool:tar'], 'ustar writer read by GNU tar', () => {
  it('lists and extracts what was written, with modes and link targets', () => {
    const deep = `${'d'.repeat(80)}/${'e'.repeat(60)}/deep.txt`;
    const tarball = join(work, 'root.tar');
    writeFileSync(tarball, ustarArchive(withParents([file('sbin/init', '#!/bin/sh\n', 0o755), symlink('bin/sh', 'busybox'), file(deep, 'deep')])));
    const listing = execFileSync('tar', ['-tvf', tarball], { encoding: 'utf8' });
    expect(listing).toMatch(/-rwxr-xr-x root\/root +10 .* sbin\/init/);
    expect(listing).toMatch(/lrwxrwxrwx root\/root .* bin\/sh -> busybox/);
    const out = join(work, 'extracted');
    execFileSync('mkdir', ['-p', out]);
    execFileSync('tar', ['-xf', tarball, '-C', out]);
    expect(readFileSync(join(out, deep), 'utf8')).toBe('deep');
    expect(statSync(join(out, 'sbin/init')).mode & 0o777).toBe(0o755);
  });
});

describeWith(['tool:mkfs.vfat', 'tool:mcopy', 'tool:mmd', 'tool:sfdisk'], 'FAT reader against mkfs.vfat and mtools', () => {
  for (const [bits, mib, sectorsPerCluster] of [[12, 4, 4], [16, 32, 1], [32, 64, 1]] as const) {
    it(`reads long and short names, folders and multi-cluster files on FAT${bits} inside an MBR card`, () => {
      const fs = join(work, `fat${bits}.img`);
      execFileSync('mkfs.vfat', ['-F', String(bits), '-s', String(sectorsPerCluster), '-C', fs, String(mib * 1024)], { stdio: 'ignore' });
      const big = Buffer.alloc(300_000);
      for (let i = 0; i < big.length; i += 1) big[i] = (i * 7) % 251;
      writeFileSync(join(work, 'bcm2837-rpi-3-b.dtb'), big);
      writeFileSync(join(work, 'config.txt'), 'kernel=u-boot.bin\n');
      execFileSync('mmd', ['-i', fs, '::extlinux']);
      execFileSync('mcopy', ['-i', fs, join(work, 'bcm2837-rpi-3-b.dtb'), join(work, 'config.txt'), '::']);
      execFileSync('mcopy', ['-i', fs, join(work, 'config.txt'), '::extlinux/extlinux.conf']);
      const card = join(work, `card${bits}.img`);
      writeFileSync(card, Buffer.alloc(0));
      execFileSync('truncate', ['-s', `${mib + 2}M`, card]);
      execFileSync('sfdisk', ['-q', card], { input: `start=2048, size=${mib * 2048}, type=c, bootable\n` });
      execFileSync('dd', [`if=${fs}`, `of=${card}`, 'bs=1M', 'seek=1', 'conv=notrunc', 'status=none']);

      const [first] = mbrPartitions(readAt(card, 0, 512));
      expect(first).toMatchObject({ index: 1, type: 0x0c, bootable: true, startBytes: 1 << 20 });
      expect(readFatFile(card, first!.startBytes, 'BCM2837-RPI-3-B.DTB').equals(big)).toBe(true);
      expect(readFatFile(card, first!.startBytes, 'config.txt').toString()).toBe('kernel=u-boot.bin\n');
      expect(readFatFile(card, first!.startBytes, '/extlinux/extlinux.conf').toString()).toBe('kernel=u-boot.bin\n');
      expect(() => readFatFile(card, first!.startBytes, 'u-boot.bin')).toThrow(/no file u-boot.bin/);
      expect([...listFatRoot(card, first!.startBytes)].sort()).toEqual(['bcm2837-rpi-3-b.dtb', 'config.txt']);
    });
  }
});

describeWith(['tool:qemu-img'], 'card files and overlays', () => {
  it('copies a card sparsely and overlays it at the next power of two without touching it', async () => {
    const card = join(work, 'card.bin');
    const data = Buffer.alloc(12 << 20);
    data.write('start', 0);
    data.write('end', data.length - 3);
    writeFileSync(card, data);
    const copy = join(work, 'copy.bin');
    expect(copySparse(card, copy)).toBe(12 << 20);
    expect(readFileSync(copy).equals(data)).toBe(true);
    expect(statSync(copy).blocks * 512).toBeLessThan(9 << 20);

    expect(nextPowerOfTwo(12 << 20)).toBe(16 << 20);
    const overlay = join(work, 'overlay.qcow2');
    await createOverlay(copy, overlay, nextPowerOfTwo(12 << 20));
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', overlay], { encoding: 'utf8' })) as Record<string, unknown>;
    expect(info).toMatchObject({ format: 'qcow2', 'virtual-size': 16 << 20, 'backing-filename': copy, 'backing-filename-format': 'raw' });
  });
});

/** The process's state letter, or null when it is gone or a zombie waiting to be reaped. */
function runningState(pid: number): string | null {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0]!;
    return state === 'Z' || state === 'X' ? null : state;
  } catch {
    return null;
  }
}

describeWith(['tool:sh', 'tool:sleep'], 'console watcher', () => {
  it('stops its own process group at the deadline, children included', async () => {
    const pidFile = join(work, 'grandchild.pid');
    const run = await runQemu({
      name: 'watcher-deadline',
      binary: 'sh',
      args: ['-c', `sleep 60 & echo $! > ${pidFile}; echo 'U-Boot 2023.01 fake'; wait`],
      deadlineMs: 1_000,
      marker: /never printed/,
      failures: [],
      milestones: [{ name: 'u-boot', pattern: /^U-Boot \d{4}\.\d\d/ }],
    });
    expect(run.outcome.kind).toBe('deadline');
    expect(run.milestones.map((m) => m.name)).toEqual(['u-boot']);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(runningState(grandchild)).toBeNull();
    expect(readFileSync(run.logFile, 'utf8')).toMatch(/\]\s+U-Boot 2023.01 fake\n[\s\S]*# deadline reached/);
  });

  it('ends on a failure text, on exit, and reports a binary that cannot start', async () => {
    const failed = await runQemu({ name: 'watcher-failure', binary: 'sh', args: ['-c', 'echo "CARDSMITH-BOOT-FAIL: no root\r"; sleep 30'], deadlineMs: 20_000, marker: /OK/, failures: [/CARDSMITH-BOOT-FAIL/], milestones: [] });
    expect(failed.outcome).toMatchObject({ kind: 'failure', line: { text: 'CARDSMITH-BOOT-FAIL: no root' } });
    expect(failed.elapsedMs).toBeLessThan(10_000);
    const exited = await runQemu({ name: 'watcher-exit', binary: 'sh', args: ['-c', 'echo partial; exit 3'], deadlineMs: 20_000, marker: /OK/, failures: [], milestones: [] });
    expect(exited.outcome).toEqual({ kind: 'exited', code: 3, signal: null });
    const missing = await runQemu({ name: 'watcher-missing', binary: '/nonexistent/qemu', args: [], deadlineMs: 5_000, marker: /OK/, failures: [], milestones: [] });
    expect(missing.outcome.kind).toBe('exited');
  });
});
