/**
 * The Windows volume lock goes through @ronomon/direct-io (flash/platform/win32-binding.ts). The
 * module is a real dependency built here too, so its API is pinned on Linux: the calls our Windows
 * code makes exist under these names and reach the native side (which refuses the Windows-only lock
 * off Windows), rather than failing as "not a function" on the first Windows run.
 */
import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { win32DiskIo } from '../../../electron/engine/flash/platform/win32-binding';

const native = createRequire(__filename)('@ronomon/direct-io') as Parameters<typeof win32DiskIo>[0];

describe('@ronomon/direct-io as the Windows binding uses it', () => {
  it('locks a volume through the native FSCTL_LOCK_VOLUME call (Windows-only, so refused here by the native side)', async () => {
    const fd = openSync(__filename, 'r');
    try {
      await expect(win32DiskIo(native).ioctl(fd, 'FSCTL_LOCK_VOLUME')).rejects.toThrow(/only supported on windows/i);
    } finally {
      closeSync(fd);
    }
  });

  it('asks the native side for the sector size, and reports the calls the module lacks as unsupported', async () => {
    const fd = openSync(__filename, 'r');
    try {
      const io = win32DiskIo(native);
      // A source file is no block device: the native call answers with its own error, not a TypeError.
      const outcome = await io.sectorSize(fd).then((size) => size, (error: Error) => error);
      expect(outcome instanceof TypeError).toBe(false);
      await expect(io.ioctl(fd, 'FSCTL_DISMOUNT_VOLUME')).resolves.toBe('unsupported');
      await expect(io.ioctl(fd, 'IOCTL_DISK_UPDATE_PROPERTIES')).resolves.toBe('unsupported');
    } finally {
      closeSync(fd);
    }
  });
});
