/**
 * The boot tests' root filesystem, as the ustar tarball Cardsmith builds a card from: a static
 * busybox and an /sbin/init that prints the boot marker with a nonce unique to this tarball (so a
 * stale card or log cannot pass), the guest architecture, the root device, and the sizes of the
 * root partition and of the mounted root filesystem (for the "fill the card" check), then powers
 * off. The root is mounted read-only, so busybox's applet links go on a tmpfs.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ustarArchive } from './tar';
import { dir, file, symlink, withParents, type TreeEntry } from './tree';

export const BOOT_MARKER = 'CARDSMITH-BOOT-OK';

const initScript = (nonce: string): string => `#!/bin/busybox sh
/bin/busybox mount -t tmpfs tmpfs /tmp
/bin/busybox mkdir -p /tmp/bin
/bin/busybox --install -s /tmp/bin
export PATH=/tmp/bin:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
grep -q ' /dev ' /proc/mounts || mount -t devtmpfs devtmpfs /dev
rootdev=$(awk '$2 == "/" { dev = $1 } END { print dev }' /proc/mounts)
part=\${rootdev##*/}
partbytes=0
[ -e "/sys/class/block/$part/size" ] && partbytes=$(( $(cat "/sys/class/block/$part/size") * 512 ))
fsbytes=$(( $(stat -f -c '%b' /) * $(stat -f -c '%S' /) ))
cat /etc/cardsmith-test-release
echo "${BOOT_MARKER} nonce=${nonce} arch=$(uname -m) root=$rootdev part-bytes=$partbytes fs-bytes=$fsbytes"
sync
poweroff -f
`;

export interface Rootfs {
  readonly tarball: Buffer;
  readonly nonce: string;
}

export function rootfsTree(busybox: string, nonce: string): readonly TreeEntry[] {
  return withParents([
    ...['bin', 'sbin', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'root'].map((path) => dir(path)),
    file('bin/busybox', readFileSync(busybox), 0o755),
    symlink('bin/sh', 'busybox'),
    file('sbin/init', initScript(nonce), 0o755),
    file('etc/cardsmith-test-release', `cardsmith boot test root ${nonce}\n`),
  ]);
}

/** A fresh root tarball; its nonce identifies the marker line this tarball's init prints. */
export function buildRootfs(busybox: string): Rootfs {
  const nonce = randomBytes(6).toString('hex');
  return { tarball: ustarArchive(rootfsTree(busybox, nonce)), nonce };
}

export interface BootMarker {
  readonly arch: string;
  readonly root: string;
  readonly partBytes: number;
  readonly fsBytes: number;
}

/** The fields of this rootfs's marker line, or null when `line` is not it. */
export function parseBootMarker(line: string, nonce: string): BootMarker | null {
  const match = new RegExp(`${BOOT_MARKER} nonce=${nonce} arch=(\\S+) root=(\\S+) part-bytes=(\\d+) fs-bytes=(\\d+)`).exec(line);
  if (!match) return null;
  return { arch: match[1]!, root: match[2]!, partBytes: Number(match[3]), fsBytes: Number(match[4]) };
}
