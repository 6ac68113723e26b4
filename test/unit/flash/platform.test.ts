/**
 * The card's platform layer: each OS's plan (which calls, in which order, with which flags) and
 * the executor that performs a plan, run against a recording stand-in for the system calls
 * macOS and Windows would make, and on Linux against a real file.
 */
import { constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CardsmithError } from '../../../electron/engine/errors';
import { alignedBuffers } from '../../../electron/engine/flash/aligned';
import { openTarget, openWithPlan, type PlatformIo } from '../../../electron/engine/flash/device';
import {
  darwinCardPlan,
  linuxCardPlan,
  macDisk,
  openFlagBits,
  parseDiskutilBlockSize,
  parseVolumePaths,
  posixFlagBits,
  staticCardPlan,
  WIN32_FLAG_BITS,
  win32CardPlan,
  windowsDiskNumber,
  windowsVolumeQuery,
  type CardPlan,
  type Ioctl,
} from '../../../electron/engine/flash/platform/plan';

const VOL_A = '\\\\?\\Volume{0b7e3f0a-1c2d-4e5f-8a9b-0c1d2e3f4a5b}';
const VOL_B = '\\\\?\\Volume{9f8e7d6c-5b4a-4938-8271-605f4e3d2c1b}';
const DRIVE3 = '\\\\.\\PhysicalDrive3';

describe('Linux plan', () => {
  it('writes: unmounts every mount, opens O_EXCL|O_DIRECT (buffered only as a fallback), sysfs block size, ejects with udisksctl then eject', () => {
    expect(linuxCardPlan('/dev/sdx', 'write')).toEqual({
      release: [{ call: 'unmount-mounts' }],
      open: [
        { call: 'open', handle: 'card', path: '/dev/sdx', flags: ['read-write', 'exclusive', 'direct'], uncached: true, fallback: ['read-write', 'exclusive'] },
        { call: 'block-size', from: 'sysfs' },
      ],
      close: [{ call: 'close', handle: 'card' }],
      eject: [
        ['udisksctl', 'power-off', '--block-device', '/dev/sdx', '--no-user-interaction'],
        ['eject', '/dev/sdx'],
      ],
    });
  });

  it('reads: releases nothing and opens shared', () => {
    const plan = linuxCardPlan('/dev/sdx', 'read');
    expect(plan.release).toEqual([]);
    expect(plan.open[0]).toMatchObject({ flags: ['read-only', 'direct'], fallback: ['read-only'] });
  });

  it('uses the running system’s own O_DIRECT (it differs between CPU architectures)', () => {
    const bits = posixFlagBits(constants);
    expect(openFlagBits(['read-write', 'exclusive', 'direct'], bits)).toBe(constants.O_RDWR | constants.O_EXCL | constants.O_DIRECT);
  });
});

describe('macOS plan', () => {
  it('writes: diskutil unmountDisk, the raw /dev/rdiskN node, diskutil block size, F_FULLFSYNC flush before close, diskutil eject', () => {
    expect(darwinCardPlan('/dev/disk4', 'write')).toEqual({
      release: [{ call: 'run', argv: ['diskutil', 'unmountDisk', '/dev/disk4'], onFailure: 'busy' }],
      open: [
        { call: 'open', handle: 'card', path: '/dev/rdisk4', flags: ['read-write'], uncached: true },
        { call: 'block-size', from: 'diskutil' },
      ],
      close: [
        { call: 'flush', handle: 'card' },
        { call: 'close', handle: 'card' },
      ],
      eject: [['diskutil', 'eject', '/dev/disk4']],
    });
  });

  it('reads the raw node too (a verify must not be served from the buffer cache), releasing nothing', () => {
    const plan = darwinCardPlan('/dev/rdisk12', 'read');
    expect(plan.release).toEqual([]);
    expect(plan.open[0]).toMatchObject({ path: '/dev/rdisk12', flags: ['read-only'], uncached: true });
    expect(plan.close).toEqual([{ call: 'close', handle: 'card' }]);
  });

  it('takes whole disks only', () => {
    expect(macDisk('/dev/rdisk2')).toEqual({ disk: '/dev/disk2', raw: '/dev/rdisk2' });
    for (const bad of ['/dev/disk4s1', '/dev/sda', '/dev/disk', '/tmp/../dev/disk4', 'disk4']) {
      expect(() => darwinCardPlan(bad, 'write'), bad).toThrow(/not a whole macOS disk/);
    }
  });

  it('has no O_DIRECT or O_EXCL meaning to ask for: the raw node is the cache bypass', () => {
    expect(() => openFlagBits(['read-write', 'direct'], posixFlagBits({ O_RDWR: 2, O_RDONLY: 0, O_EXCL: 0x800 }))).toThrow(/direct open flag/);
  });

  it('reads the block size from diskutil info -plist', () => {
    const plist = (size: string): string =>
      `<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<dict>\n\t<key>BusProtocol</key>\n\t<string>Secure Digital</string>\n\t<key>DeviceBlockSize</key>\n\t<integer>${size}</integer>\n\t<key>DeviceIdentifier</key>\n\t<string>disk4</string>\n</dict>\n</plist>\n`;
    expect(parseDiskutilBlockSize(plist('512'))).toBe(512);
    expect(parseDiskutilBlockSize(plist('4096'))).toBe(4096);
    expect(() => parseDiskutilBlockSize(plist('1000'))).toThrow(/DeviceBlockSize \(1000\)/);
    expect(() => parseDiskutilBlockSize('<plist/>')).toThrow(/missing/);
  });
});

describe('Windows plan', () => {
  it('writes: every volume opened, locked (retried) and dismounted, then the disk unbuffered + write-through; after: partition table re-read, disk closed, volumes unlocked', () => {
    const plan = win32CardPlan('\\\\.\\PHYSICALDRIVE3', [VOL_A, VOL_B], 'write');
    expect(plan.release).toEqual([]);
    expect(plan.open).toEqual([
      { call: 'open', handle: `volume:${VOL_A}`, path: VOL_A, flags: ['read-write'], uncached: false },
      { call: 'ioctl', handle: `volume:${VOL_A}`, code: 'FSCTL_LOCK_VOLUME', attempts: 5, retryMs: 1000 },
      { call: 'ioctl', handle: `volume:${VOL_A}`, code: 'FSCTL_DISMOUNT_VOLUME', attempts: 1, retryMs: 0 },
      { call: 'open', handle: `volume:${VOL_B}`, path: VOL_B, flags: ['read-write'], uncached: false },
      { call: 'ioctl', handle: `volume:${VOL_B}`, code: 'FSCTL_LOCK_VOLUME', attempts: 5, retryMs: 1000 },
      { call: 'ioctl', handle: `volume:${VOL_B}`, code: 'FSCTL_DISMOUNT_VOLUME', attempts: 1, retryMs: 0 },
      { call: 'open', handle: 'card', path: DRIVE3, flags: ['read-write', 'direct', 'write-through'], uncached: true },
      { call: 'block-size', from: 'sector-size-ioctl' },
    ]);
    expect(plan.close).toEqual([
      { call: 'ioctl', handle: 'card', code: 'IOCTL_DISK_UPDATE_PROPERTIES', attempts: 1, retryMs: 0 },
      { call: 'close', handle: 'card' },
      { call: 'close', handle: `volume:${VOL_A}` },
      { call: 'close', handle: `volume:${VOL_B}` },
    ]);
    expect(plan.eject).toEqual([]);
  });

  it('reads unbuffered without locking anything', () => {
    const plan = win32CardPlan(DRIVE3, [VOL_A], 'read');
    expect(plan.open.map((s) => s.call)).toEqual(['open', 'block-size']);
    expect(plan.open[0]).toMatchObject({ flags: ['read-only', 'direct'] });
  });

  it('maps its flags to libuv’s Windows bits: FILE_FLAG_NO_BUFFERING and FILE_FLAG_WRITE_THROUGH', () => {
    expect(openFlagBits(['read-write', 'direct', 'write-through'], WIN32_FLAG_BITS)).toBe(0x2 | 0x02000000 | 0x04000000);
    expect(() => openFlagBits(['exclusive'], WIN32_FLAG_BITS)).toThrow(/exclusive open flag/);
  });

  it('names physical drives only, and lists volumes through Get-Partition', () => {
    expect(windowsDiskNumber('\\\\.\\physicaldrive12')).toBe(12);
    for (const bad of ['\\\\.\\C:', 'PhysicalDrive1', '\\\\.\\PhysicalDrive', '\\\\?\\Volume{x}']) expect(() => windowsDiskNumber(bad), bad).toThrow(/not a Windows physical drive/);
    expect(windowsVolumeQuery(3).at(-1)).toBe('Get-Partition -DiskNumber 3 -ErrorAction SilentlyContinue | ForEach-Object { $_.AccessPaths }');
  });

  it('keeps the volume GUID paths of Get-Partition’s output, without the trailing backslash, once each', () => {
    const output = ['', 'E:\\', `${VOL_A}\\`, 'C:\\mnt\\card\\', `${VOL_B}\\`, `${VOL_A}\\`, '\\\\?\\Volume{not-a-guid}\\', ''].join('\r\n');
    expect(parseVolumePaths(output)).toEqual([VOL_A, VOL_B]);
    expect(parseVolumePaths('')).toEqual([]);
  });

  it('releases and ejects through the open and the person, not a tool', () => {
    expect(staticCardPlan('win32', DRIVE3, 'write')).toMatchObject({ release: [], eject: [] });
  });
});

/** Records every call a plan makes; `fail` scripts errors per call. */
function recordingIo(fail: (call: string) => Error | 'unsupported' | null = () => null): { io: PlatformIo; calls: string[] } {
  const calls: string[] = [];
  let next = 10;
  const paths = new Map<number, string>();
  const name = (fd: number): string => paths.get(fd) ?? String(fd);
  const io: PlatformIo = {
    flagBits: WIN32_FLAG_BITS,
    async open(path, flags) {
      const call = `open ${path} 0x${flags.toString(16)}`;
      calls.push(call);
      const failure = fail(call);
      if (failure instanceof Error) throw failure;
      paths.set(next, path);
      return next++;
    },
    async close(fd) {
      calls.push(`close ${name(fd)}`);
    },
    async flush(fd) {
      calls.push(`flush ${name(fd)}`);
    },
    async ioctl(fd, code: Ioctl) {
      const call = `${code} ${name(fd)}`;
      calls.push(call);
      const failure = fail(call);
      if (failure instanceof Error) throw failure;
      return failure === 'unsupported' ? 'unsupported' : 'done';
    },
    async blockSize(fd, from) {
      calls.push(`block-size ${from} ${name(fd)}`);
      return 4096;
    },
  };
  return { io, calls };
}

const fast = (plan: CardPlan): CardPlan => ({ ...plan, open: plan.open.map((s) => (s.call === 'ioctl' ? { ...s, retryMs: 1 } : s)) });

describe('the executor', () => {
  it('performs a Windows write plan in order and undoes it on close', async () => {
    const { io, calls } = recordingIo();
    const logs: string[] = [];
    const target = await openWithPlan(win32CardPlan(DRIVE3, [VOL_A, VOL_B], 'write'), DRIVE3, io, (m) => logs.push(m));
    expect([target.direct, target.blockSize]).toEqual([true, 4096]);
    await target.close();
    expect(calls).toEqual([
      `open ${VOL_A} 0x2`,
      `FSCTL_LOCK_VOLUME ${VOL_A}`,
      `FSCTL_DISMOUNT_VOLUME ${VOL_A}`,
      `open ${VOL_B} 0x2`,
      `FSCTL_LOCK_VOLUME ${VOL_B}`,
      `FSCTL_DISMOUNT_VOLUME ${VOL_B}`,
      `open ${DRIVE3} 0x6000002`,
      `block-size sector-size-ioctl ${DRIVE3}`,
      `IOCTL_DISK_UPDATE_PROPERTIES ${DRIVE3}`,
      `close ${DRIVE3}`,
      `close ${VOL_A}`,
      `close ${VOL_B}`,
    ]);
    expect(logs).toEqual([]);
  });

  it('retries a lock the OS refuses while the volume is in use, then gives up as busy and closes what it opened', async () => {
    let refusals = 0;
    const inUse = (call: string): Error | null => (call.startsWith('FSCTL_LOCK_VOLUME') && refusals++ < 2 ? new Error('Access is denied') : null);
    const retried = recordingIo(inUse);
    await (await openWithPlan(fast(win32CardPlan(DRIVE3, [VOL_A], 'write')), DRIVE3, retried.io, () => undefined)).close();
    expect(retried.calls.filter((c) => c.startsWith('FSCTL_LOCK_VOLUME'))).toHaveLength(3);

    const stuck = recordingIo((call) => (call.startsWith('FSCTL_LOCK_VOLUME') ? new Error('Access is denied') : null));
    const opening = openWithPlan(fast(win32CardPlan(DRIVE3, [VOL_A], 'write')), DRIVE3, stuck.io, () => undefined);
    await expect(opening).rejects.toMatchObject({ info: { cause: 'busy', message: expect.stringContaining(`FSCTL_LOCK_VOLUME failed on ${VOL_A} (5 attempt(s)): Access is denied`) } });
    expect(stuck.calls.filter((c) => c.startsWith('FSCTL_LOCK_VOLUME'))).toHaveLength(5);
    expect(stuck.calls.at(-1)).toBe(`close ${VOL_A}`);
    expect(stuck.calls.some((c) => c.startsWith(`open ${DRIVE3}`))).toBe(false);
  });

  it('refuses to write when the native module cannot lock, but only logs a dismount or refresh it cannot issue', async () => {
    const noLock = recordingIo((call) => (call.startsWith('FSCTL_LOCK_VOLUME') ? 'unsupported' : null));
    await expect(openWithPlan(win32CardPlan(DRIVE3, [VOL_A], 'write'), DRIVE3, noLock.io, () => undefined)).rejects.toMatchObject({ info: { cause: 'not-implemented' } });
    expect(noLock.calls.at(-1)).toBe(`close ${VOL_A}`);

    const logs: string[] = [];
    const partial = recordingIo((call) => (/^(FSCTL_DISMOUNT_VOLUME|IOCTL_DISK_UPDATE_PROPERTIES)/.test(call) ? 'unsupported' : null));
    await (await openWithPlan(win32CardPlan(DRIVE3, [VOL_A], 'write'), DRIVE3, partial.io, (m) => logs.push(m))).close();
    expect(logs).toEqual([`FSCTL_DISMOUNT_VOLUME is not available in the native module; skipped for volume:${VOL_A}`, 'IOCTL_DISK_UPDATE_PROPERTIES is not available in the native module; skipped for card']);
  });

  it('closes the locked volumes when the disk itself cannot be opened', async () => {
    const gone = recordingIo((call) => (call.startsWith(`open ${DRIVE3}`) ? Object.assign(new Error('gone'), { code: 'ENOENT' }) : null));
    await expect(openWithPlan(win32CardPlan(DRIVE3, [VOL_A, VOL_B], 'write'), DRIVE3, gone.io, () => undefined)).rejects.toMatchObject({ info: { cause: 'device-gone' } });
    expect(gone.calls.slice(-2)).toEqual([`close ${VOL_B}`, `close ${VOL_A}`]);
  });

  it('flushes a macOS card before closing it', async () => {
    const { io, calls } = recordingIo();
    await (await openWithPlan(darwinCardPlan('/dev/disk4', 'write'), '/dev/disk4', { ...io, flagBits: { 'read-write': 2, 'read-only': 0 } }, () => undefined)).close();
    expect(calls).toEqual(['open /dev/rdisk4 0x2', 'block-size diskutil /dev/rdisk4', 'flush /dev/rdisk4', 'close /dev/rdisk4']);
  });
});

describe('the Linux executor on a real file', () => {
  const dir = mkdtempSync(join('/dev/shm', 'cardsmith-platform-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens O_DIRECT through the Linux plan and writes and reads back whole blocks', async () => {
    const card = join(dir, 'card.img');
    writeFileSync(card, Buffer.alloc(8192));
    const logs: string[] = [];
    const target = await openTarget(card, { mode: 'write', log: (m) => logs.push(m) });
    const block = (alignedBuffers(1, 65536)[0] as Buffer).subarray(0, 512).fill(0xa5);
    try {
      // a regular file has no sysfs queue: the O_DIRECT default of 512
      expect([target.direct, target.blockSize]).toEqual([true, 512]);
      await target.write(block, 512);
      await target.sync();
    } finally {
      await target.close();
    }
    expect(readFileSync(card).subarray(512, 1024).every((b) => b === 0xa5)).toBe(true);
    expect(logs).toEqual([]);
  });

  it('falls back to buffered I/O (block size 1) where O_DIRECT is refused, and says so', async () => {
    const bits = posixFlagBits(constants);
    const { io, calls } = recordingIo((call) => (call === `open /dev/sdx 0x${(bits['read-write']! | bits.exclusive! | bits.direct!).toString(16)}` ? Object.assign(new Error('Invalid argument'), { code: 'EINVAL' }) : null));
    const logs: string[] = [];
    const target = await openWithPlan(linuxCardPlan('/dev/sdx', 'write'), '/dev/sdx', { ...io, flagBits: bits }, (m) => logs.push(m));
    expect([target.direct, target.blockSize]).toEqual([false, 1]);
    expect(calls).toEqual([`open /dev/sdx 0x${(constants.O_RDWR | constants.O_EXCL | constants.O_DIRECT).toString(16)}`, `open /dev/sdx 0x${(constants.O_RDWR | constants.O_EXCL).toString(16)}`]);
    expect(logs).toEqual(['/dev/sdx refuses O_DIRECT; falling back to buffered I/O with fsync']);
  });

  it('names a missing card as gone', async () => {
    await expect(openTarget(join(dir, 'missing'), { mode: 'read', log: () => undefined })).rejects.toBeInstanceOf(CardsmithError);
    await expect(openTarget(join(dir, 'missing'), { mode: 'read', log: () => undefined })).rejects.toMatchObject({ info: { cause: 'device-gone' } });
  });
});
