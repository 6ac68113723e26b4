/**
 * The boot tests' initramfs: a gzip'ed newc cpio with a static busybox, the kernel modules the
 * machine needs to see its card and mount ext4 (Debian builds the SD hosts, virtio and ext4 as
 * modules), and an /init that loads them, finds the root named by `root=` on the kernel command
 * line (PARTUUID=, LABEL=, UUID= or a /dev path), mounts it read-only and switch_roots into its
 * /sbin/init. It prints INITRAMFS_MARKER when it starts and BOOT_FAIL_TEXT plus a reason (then
 * powers off) when it cannot go on, so a broken card fails fast instead of running into the
 * deadline. `root=/rootfs.tar` unpacks a tarball carried inside the initramfs onto a tmpfs: the
 * harness's own check, which boots without any card.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzippedNewcArchive } from './cpio';
import { moduleLoadOrder, parseModulesDep } from './kernel-modules';
import { dir, file, symlink, withParents, type TreeEntry } from './tree';

export const INITRAMFS_MARKER = 'CARDSMITH-INITRAMFS-OK';
export const BOOT_FAIL_TEXT = 'CARDSMITH-BOOT-FAIL';

/** Where the card-less harness check keeps its root tarball inside the initramfs. */
export const EMBEDDED_ROOTFS = 'rootfs.tar';

// PARTUUID: on MBR the disk signature (bytes 440..443, little-endian) and the partition number
// in two hex digits; on GPT the entry's unique GUID (bytes 16..31 of the entry, the first three
// fields little-endian). busybox findfs knows LABEL= and UUID= but not PARTUUID=.
const INIT = `#!/bin/sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "${INITRAMFS_MARKER} arch=$(uname -m) kernel=$(uname -r)"
fail() {
  echo "${BOOT_FAIL_TEXT}: $*"
  cat /proc/partitions
  sync
  poweroff -f
  sleep 5
  echo o > /proc/sysrq-trigger
  exit 1
}
while read -r module; do
  insmod "/lib/modules/$module" || fail "insmod $module"
done < /etc/modules.load

partuuid_of() {
  sys=/sys/class/block/$1
  n=$(cat "$sys/partition")
  disk=$(basename "$(readlink -f "$sys/..")")
  if [ "$(dd if="/dev/$disk" bs=1 skip=512 count=8 2>/dev/null)" = "EFI PART" ]; then
    lba=$(od -An -tu4 -j584 -N4 "/dev/$disk" | tr -d ' ')
    size=$(od -An -tu4 -j596 -N4 "/dev/$disk" | tr -d ' ')
    set -- $(od -An -tx1 -j$((lba * 512 + (n - 1) * size + 16)) -N16 "/dev/$disk")
    echo "$4$3$2$1-$6$5-$8$7-$9\${10}-\${11}\${12}\${13}\${14}\${15}\${16}"
  else
    printf '%s-%02x\\n' "$(od -An -tx4 -j440 -N4 "/dev/$disk" | tr -d ' ')" "$n"
  fi
}
find_root() {
  case $1 in
    LABEL=*|UUID=*) findfs "$1" 2>/dev/null ;;
    PARTUUID=*)
      want=$(echo "\${1#PARTUUID=}" | tr A-F a-f)
      for sys in /sys/class/block/*; do
        [ -e "$sys/partition" ] || continue
        [ "$(partuuid_of "\${sys##*/}")" = "$want" ] && echo "/dev/\${sys##*/}"
      done ;;
    /dev/*) [ -b "$1" ] && echo "$1" ;;
  esac
}

root=
for arg in $(cat /proc/cmdline); do
  case $arg in root=*) root=\${arg#root=} ;; esac
done
[ -n "$root" ] || fail "no root= on the kernel command line: $(cat /proc/cmdline)"
if [ "$root" = "/${EMBEDDED_ROOTFS}" ]; then
  mount -t tmpfs tmpfs /newroot || fail "cannot mount a tmpfs"
  tar -x -f "/${EMBEDDED_ROOTFS}" -C /newroot || fail "cannot unpack /${EMBEDDED_ROOTFS}"
  echo "cardsmith: root $root unpacked onto tmpfs"
else
  dev=
  for try in $(seq 1 100); do
    dev=$(find_root "$root")
    [ -n "$dev" ] && break
    sleep 0.1
  done
  [ -n "$dev" ] || fail "root $root not found"
  echo "cardsmith: root $root is $dev"
  mount -t ext4 -o ro "$dev" /newroot || fail "cannot mount $dev (ext4, read-only)"
fi
[ -x /newroot/sbin/init ] || fail "no /sbin/init on the root filesystem"
umount /proc /sys
mount --move /dev /newroot/dev || fail "cannot move /dev onto the root"
exec switch_root /newroot /sbin/init
`;

export interface InitramfsSpec {
  /** Static busybox for the guest architecture. */
  readonly busybox: string;
  /** Folder a linux-image deb was unpacked into (holds lib/modules/<version>/modules.dep). */
  readonly kernelRoot: string;
  /** Modules to load, dependencies added from modules.dep; soft dependencies must be listed. */
  readonly modules: readonly string[];
  /** A root tarball to carry inside, for booting with root=/rootfs.tar and no card. */
  readonly embeddedRootfs?: Buffer;
}

/** The single kernel version under lib/modules/ of an unpacked linux-image package. */
export function kernelVersion(kernelRoot: string): string {
  const versions = readdirSync(join(kernelRoot, 'lib/modules'));
  if (versions.length !== 1) throw new Error(`expected one kernel in ${kernelRoot}/lib/modules, found: ${versions.join(', ')}`);
  return versions[0]!;
}

export function initramfsTree(spec: InitramfsSpec): readonly TreeEntry[] {
  const moduleDir = join(spec.kernelRoot, 'lib/modules', kernelVersion(spec.kernelRoot));
  const order = moduleLoadOrder(parseModulesDep(readFileSync(join(moduleDir, 'modules.dep'), 'utf8')), spec.modules);
  const entries: TreeEntry[] = [
    ...['bin', 'sbin', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'tmp', 'newroot', 'etc'].map((path) => dir(path)),
    { kind: 'char-device', path: 'dev/console', mode: 0o600, major: 5, minor: 1 },
    file('bin/busybox', readFileSync(spec.busybox), 0o755),
    symlink('bin/sh', 'busybox'),
    file('init', INIT, 0o755),
    file('etc/modules.load', order.map((path) => `${path}\n`).join('')),
    ...order.map((path) => file(`lib/modules/${path}`, readFileSync(join(moduleDir, path)))),
  ];
  if (spec.embeddedRootfs) entries.push(file(EMBEDDED_ROOTFS, spec.embeddedRootfs));
  return withParents(entries);
}

/** The gzip'ed newc initramfs, ready for an extlinux `initrd` line or QEMU's -initrd. */
export function buildInitramfs(spec: InitramfsSpec): Buffer {
  return gzippedNewcArchive(initramfsTree(spec));
}
