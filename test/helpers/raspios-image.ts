/**
 * A Raspberry Pi OS–style image for the first-boot tests: an MBR (disk id 0xcafe0001), a FAT32
 * boot partition made by mkfs.fat and filled with mtools, an empty ext4 root made by mkfs.ext4.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

const MiB = 1024 * 1024;
export const RASPIOS = {
  bootStart: 4 * MiB,
  bootSize: 64 * MiB,
  rootStart: 68 * MiB,
  rootSize: 16 * MiB,
  cmdline: 'console=serial0,115200 console=tty1 root=PARTUUID=cafe0001-02 rootfstype=ext4 fsck.repair=yes rootwait',
} as const;

/** mtools' environment: no geometry check on a FAT without a partition table. */
export const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

/** A boot partition entry, put in this order: a file with its bytes, or a folder (`null`). */
export type BootEntry = readonly [path: string, data: string | Buffer | null];

/** Writes the image at `image` and returns its path; `leaveFree` fills the FAT up to that many free bytes. */
export function writeRaspiosImage(image: string, entries: readonly BootEntry[], leaveFree?: number): string {
  const boot = `${image}.boot`;
  const root = `${image}.root`;
  const src = `${image}.src`;
  rmSync(boot, { force: true });
  execFileSync('mkfs.fat', ['-F', '32', '-s', '1', '-n', 'bootfs', '-C', boot, String(RASPIOS.bootSize / 1024)]);
  const put = (path: string, data: string | Buffer): void => {
    writeFileSync(src, data);
    execFileSync('mcopy', ['-i', boot, src, `::${path}`], { env: MTOOLS_ENV });
  };
  for (const [path, data] of entries) {
    if (data === null) execFileSync('mmd', ['-i', boot, `::${path}`], { env: MTOOLS_ENV });
    else put(path, data);
  }
  if (leaveFree !== undefined) {
    const free = Number(/([\d ]+) bytes free/.exec(execFileSync('mdir', ['-i', boot, '::/'], { env: MTOOLS_ENV }).toString())![1]!.replace(/ /g, ''));
    put('filler.bin', Buffer.alloc(free - leaveFree, 1));
  }
  writeFileSync(root, Buffer.alloc(0));
  execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'rootfs', root, `${RASPIOS.rootSize / 1024}K`]);
  const bytes = Buffer.alloc(RASPIOS.rootStart + RASPIOS.rootSize);
  bytes.set(readFileSync(boot), RASPIOS.bootStart);
  bytes.set(readFileSync(root), RASPIOS.rootStart);
  writeFileSync(image, bytes);
  const { bootStart, bootSize, rootStart } = RASPIOS;
  execFileSync('sfdisk', ['--quiet', image], { input: `label: dos\nlabel-id: 0xcafe0001\nstart=${bootStart / 512}, size=${bootSize / 512}, type=c\nstart=${rootStart / 512}, type=83\n` });
  rmSync(boot);
  rmSync(root);
  rmSync(src, { force: true });
  return image;
}
