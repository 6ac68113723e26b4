/**
 * The three QEMU machines a Cardsmith card is booted on, and what each needs: which Cardsmith
 * board id builds its card, which Debian kernel, busybox and modules go into the initramfs, how
 * QEMU starts (who plays the boot ROM or firmware), and the console milestones a real boot passes
 * in order. Times and traps behind these choices: /work/shared/reference/qemu-boot.md.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fixturePath } from '../helpers/fixtures';
import { BOOT_FAIL_TEXT, INITRAMFS_MARKER } from './initramfs';
import type { Milestone } from './qemu';
import { BOOT_MARKER } from './rootfs';

export const MILESTONES = {
  all: [
    { name: 'spl', pattern: /U-Boot SPL \d/ },
    { name: 'u-boot', pattern: /^U-Boot \d{4}\.\d\d/ },
    { name: 'boot-config', pattern: /Retrieving file: .*extlinux\.conf|Found \/.*extlinux\.conf|boot\.scr/ },
    { name: 'kernel-handoff', pattern: /Starting kernel \.\.\./ },
    { name: 'initramfs', pattern: new RegExp(INITRAMFS_MARKER) },
    { name: 'root-found', pattern: /^cardsmith: root \S+ is \/dev\// },
    { name: 'marker', pattern: new RegExp(BOOT_MARKER) },
    { name: 'poweroff', pattern: /reboot: (Power down|System halted)/ },
  ] satisfies readonly Milestone[],
  // U-Boot gives up on the card's extlinux.conf (bad kernel, no device tree…): the boards' U-Boot
  // then only tries the network, which these machines do not have.
  failures: [new RegExp(BOOT_FAIL_TEXT), /Kernel panic/, /EXTLINUX FAILED/],
} as const;

// ext4 needs crc32c only through a soft dependency (metadata_csum), which insmod ignores.
const EXT4 = ['ext4', 'crc32c_generic'];
export const SUNXI_MODULES = ['sunxi-mmc', ...EXT4];
export const VIRT_MODULES = ['virtio_mmio', 'virtio_pci', 'virtio_blk', ...EXT4];
// bcm2835 is the sdhost QEMU's card sits on; with the watchdog loaded, poweroff resets the
// machine and QEMU (-no-reboot) exits.
export const RPI_MODULES = ['bcm2835', 'sdhci-iproc', ...EXT4, 'bcm2835_wdt'];

/** The kernel image (boot/vmlinuz-*) of an unpacked linux-image package. */
export function kernelImage(kernelRoot: string): string {
  const images = readdirSync(join(kernelRoot, 'boot')).filter((name) => name.startsWith('vmlinuz-'));
  if (images.length !== 1) throw new Error(`expected one boot/vmlinuz-* in ${kernelRoot}, found: ${images.join(', ')}`);
  return join(kernelRoot, 'boot', images[0]!);
}

export type MachineId = 'orangepi-pc' | 'virt-aarch64' | 'raspi3b';

export interface Machine {
  readonly id: MachineId;
  readonly qemu: 'qemu-system-arm' | 'qemu-system-aarch64';
  /** Cardsmith board id the card is built for. */
  readonly board: string;
  readonly kernelRoot: string;
  readonly busybox: string;
  /** dtb inside the kernel package's usr/lib/linux-image-<version>/, when the card needs one. */
  readonly dtb?: string;
  /** Loader folder for boards whose database entry asks the user for one (--loader-from). */
  readonly loaderFrom?: string;
  /**
   * Boot files the board needs that no Debian main package ships and QEMU would not run anyway
   * (the VideoCore firmware); the card gets marked stand-ins through --boot-files.
   */
  readonly firmwareStandIns?: readonly string[];
  readonly modules: readonly string[];
  readonly console: string;
  readonly guestArch: string;
  readonly rootDevice: RegExp;
  readonly milestones: readonly string[];
  readonly deadlineMs: number;
  /** Ends the wait after the marker when QEMU cannot exit by itself. */
  readonly endLine?: RegExp;
}

const armhfKernel = fixturePath('linux-image-armmp_armhf');
const arm64Kernel = fixturePath('linux-image-arm64_arm64');

export const U_BOOT_QEMU_ARM64 = fixturePath('u-boot-qemu_all', 'usr/lib/u-boot/qemu_arm64/u-boot.bin');
export const NANOPI_NEO_LOADER = fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot/nanopi_neo');

const fromSpl = ['spl', 'u-boot', 'boot-config', 'kernel-handoff', 'initramfs', 'root-found', 'marker'];

export const MACHINES: Readonly<Record<MachineId, Machine>> = {
  // The H3 boot ROM model loads the SPL from card byte 8192; the nanopi_neo U-Boot (same SoC,
  // Debian builds no orangepi_pc) stands in for the Orange Pi PC's. QEMU never powers off.
  'orangepi-pc': {
    id: 'orangepi-pc',
    qemu: 'qemu-system-arm',
    board: 'orangepi-pc',
    kernelRoot: armhfKernel,
    busybox: fixturePath('busybox-static_armhf', 'bin/busybox'),
    dtb: 'sun8i-h3-orangepi-pc.dtb',
    loaderFrom: NANOPI_NEO_LOADER,
    modules: SUNXI_MODULES,
    console: 'ttyS0,115200',
    guestArch: 'armv7l',
    rootDevice: /^\/dev\/mmcblk0p\d$/,
    milestones: fromSpl,
    deadlineMs: 150_000,
    endLine: /reboot: System halted/,
  },
  // u-boot-qemu is the machine's flash (-bios); the card is a virtio disk.
  'virt-aarch64': {
    id: 'virt-aarch64',
    qemu: 'qemu-system-aarch64',
    board: 'qemu-virt-aarch64',
    kernelRoot: arm64Kernel,
    busybox: fixturePath('busybox-static_arm64', 'bin/busybox'),
    modules: VIRT_MODULES,
    console: 'ttyAMA0',
    guestArch: 'aarch64',
    rootDevice: /^\/dev\/vda\d$/,
    milestones: fromSpl.slice(1),
    deadlineMs: 90_000,
  },
  // The harness plays the VideoCore firmware: config.txt, u-boot.bin and the dtb come from the
  // card's FAT. U-Boot prints on the mini UART (second serial), Linux on the PL011 (first).
  raspi3b: {
    id: 'raspi3b',
    qemu: 'qemu-system-aarch64',
    board: 'rpi-3-b',
    kernelRoot: arm64Kernel,
    busybox: fixturePath('busybox-static_arm64', 'bin/busybox'),
    dtb: 'broadcom/bcm2837-rpi-3-b.dtb',
    loaderFrom: fixturePath('u-boot-rpi_arm64', 'usr/lib/u-boot/rpi_3'),
    firmwareStandIns: ['bootcode.bin', 'start.elf', 'fixup.dat'],
    modules: RPI_MODULES,
    console: 'ttyAMA0,115200',
    guestArch: 'aarch64',
    rootDevice: /^\/dev\/mmcblk0p\d$/,
    milestones: fromSpl.slice(1),
    deadlineMs: 150_000,
  },
};

/** Absolute path of a machine's dtb in its kernel package. */
export function dtbPath(machine: Machine): string | undefined {
  if (machine.dtb === undefined) return undefined;
  const version = readdirSync(join(machine.kernelRoot, 'lib/modules'))[0]!;
  return join(machine.kernelRoot, 'usr/lib', `linux-image-${version}`, machine.dtb);
}
