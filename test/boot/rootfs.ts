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

/** What a customised card's guest reports, one GUEST line each, before the marker. */
export const GUEST_LINE = 'CARDSMITH-GUEST';
const guestReport = `hostname -F /etc/hostname
echo "${GUEST_LINE} hostname=$(hostname)"
echo "${GUEST_LINE} id=$(id ada 2>&1)"
echo "${GUEST_LINE} home=$(stat -c '%a %u %g' /home/ada)"
echo "${GUEST_LINE} ssh-dir=$(stat -c '%a %u %g' /home/ada/.ssh)"
echo "${GUEST_LINE} authorized-keys=$(stat -c '%a %u %g' /home/ada/.ssh/authorized_keys)"
echo "${GUEST_LINE} localtime=$(readlink /etc/localtime)"
echo "${GUEST_LINE} zone=$(date +%Z)"
`;

const initScript = (nonce: string, customised: boolean): string => `#!/bin/busybox sh
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
${customised ? guestReport : ''}echo "${BOOT_MARKER} nonce=${nonce} arch=$(uname -m) root=$rootdev part-bytes=$partbytes fs-bytes=$fsbytes"
sync
poweroff -f
`;

export interface Rootfs {
  readonly tarball: Buffer;
  readonly nonce: string;
}

/**
 * What Cardsmith's customisation looks for in a Debian-like rootfs: account databases with a sudo
 * group, /etc/skel, sshd with its systemd unit, NetworkManager, and the host's tzdata for one zone.
 */
function customisable(zone: string): TreeEntry[] {
  return [
    file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n'),
    file('etc/group', 'root:x:0:\nsudo:x:27:\nshadow:x:42:\nnogroup:x:65534:\n'),
    file('etc/shadow', 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n', 0o640),
    file('etc/gshadow', 'root:*::\nsudo:*::\nshadow:*::\nnogroup:*::\n', 0o640),
    file('etc/hosts', '127.0.0.1\tlocalhost\n'),
    file('etc/hostname', 'debian\n'),
    file('etc/debian_version', '13.0\n'),
    file('etc/skel/.profile', '# ~/.profile\n'),
    file('lib/systemd/systemd', 'stand-in\n', 0o755),
    file('lib/systemd/system/ssh.service', '[Unit]\n'),
    file('usr/sbin/sshd', 'stand-in\n', 0o755),
    file('etc/ssh/sshd_config', 'Include /etc/ssh/sshd_config.d/*.conf\n'),
    file('usr/sbin/NetworkManager', 'stand-in\n', 0o755),
    dir('etc/NetworkManager/system-connections'),
    file(`usr/share/zoneinfo/${zone}`, readFileSync(`/usr/share/zoneinfo/${zone}`)),
  ];
}

export function rootfsTree(busybox: string, nonce: string, customiseZone?: string): readonly TreeEntry[] {
  return withParents([
    ...['bin', 'sbin', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'root'].map((path) => dir(path)),
    file('bin/busybox', readFileSync(busybox), 0o755),
    symlink('bin/sh', 'busybox'),
    file('sbin/init', initScript(nonce, customiseZone !== undefined), 0o755),
    file('etc/cardsmith-test-release', `cardsmith boot test root ${nonce}\n`),
    ...(customiseZone ? customisable(customiseZone) : []),
  ]);
}

/**
 * A fresh root tarball; its nonce identifies the marker line this tarball's init prints. With
 * `customiseZone`, the rootfs can be customised and its init reports what the card carries.
 */
export function buildRootfs(busybox: string, customiseZone?: string): Rootfs {
  const nonce = randomBytes(6).toString('hex');
  return { tarball: ustarArchive(rootfsTree(busybox, nonce, customiseZone)), nonce };
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
