/**
 * Boots a card file on its QEMU machine. Who starts the card's U-Boot differs per machine:
 * orangepi-pc's boot ROM model reads the SPL from card byte 8192 (no -kernel, no -bios); virt
 * runs u-boot-qemu as its flash (-bios) with the card as a virtio disk; raspi3b cannot run the
 * VideoCore firmware, so the harness does its job — config.txt, the kernel it names (U-Boot) and
 * the device tree are read from the card's first (FAT) partition and passed as -kernel / -dtb.
 * SD cards boot through a qcow2 overlay of power-of-two size; the card file is never written.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOverlay, mbrPartitions, nextPowerOfTwo, readAt } from './card-file';
import { listFatRoot, readFatFile } from './fat-reader';
import { MILESTONES, U_BOOT_QEMU_ARM64, type Machine, type MachineId } from './machines';
import { runQemu, type BootRun } from './qemu';
import { parseConfigTxt } from './rpi-firmware';

const FAT_TYPES = new Set([0x01, 0x04, 0x06, 0x0b, 0x0c, 0x0e]);

export interface BootRequest {
  readonly machine: Machine;
  readonly card: string;
  readonly cardBytes: number;
  /** Scratch folder for the overlay and the files the firmware stand-in reads. */
  readonly work: string;
  /** Log name under test-artifacts/boot/. */
  readonly name: string;
  readonly marker: RegExp;
  readonly deadlineMs?: number;
}

interface Launch {
  readonly args: readonly string[];
}

async function sdOverlay(request: BootRequest): Promise<string> {
  const overlay = join(request.work, `${request.name}.qcow2`);
  await createOverlay(request.card, overlay, nextPowerOfTwo(request.cardBytes));
  return overlay;
}

/** The files the Pi firmware would load, copied out of the card's FAT into the work folder. */
export function playPiFirmware(card: string, work: string): { readonly kernel: string; readonly dtb: string | null } {
  const first = mbrPartitions(readAt(card, 0, 512)).find((partition) => partition.index === 1);
  if (!first || !FAT_TYPES.has(first.type)) throw new Error(`card ${card}: partition 1 is not FAT (type ${first?.type.toString(16) ?? 'none'})`);
  const choice = parseConfigTxt(readFatFile(card, first.startBytes, 'config.txt').toString('utf8'));
  const kernel = join(work, 'firmware-kernel.bin');
  writeFileSync(kernel, readFatFile(card, first.startBytes, choice.kernel));
  // Without any of its dtbs the firmware starts the kernel with no device tree.
  const fatFiles = listFatRoot(card, first.startBytes);
  const found = choice.deviceTrees.find((name) => fatFiles.includes(name.toLowerCase()));
  if (found === undefined) return { kernel, dtb: null };
  const dtb = join(work, 'firmware.dtb');
  writeFileSync(dtb, readFatFile(card, first.startBytes, found));
  return { kernel, dtb };
}

async function launch(id: MachineId, request: BootRequest): Promise<Launch> {
  switch (id) {
    case 'orangepi-pc': {
      // Default multi-threaded TCG: single-threaded hangs this kernel after "Starting kernel".
      const overlay = await sdOverlay(request);
      return { args: ['-M', 'orangepi-pc', '-nographic', '-nic', 'none', '-drive', `if=sd,format=qcow2,file=${overlay}`] };
    }
    case 'virt-aarch64':
      return {
        args: ['-M', 'virt', '-cpu', 'cortex-a57', '-smp', '2', '-m', '1024', '-nographic', '-nic', 'none', '-no-reboot', '-bios', U_BOOT_QEMU_ARM64,
          '-drive', `if=none,format=raw,file=${request.card},id=card,snapshot=on`, '-device', 'virtio-blk-device,drive=card'],
      };
    case 'raspi3b': {
      // Single-threaded TCG: three secondary cores spinning in U-Boot starve the boot core on a
      // 2-core host. U-Boot prints on the mini UART (second serial port), Linux on the PL011.
      const firmware = playPiFirmware(request.card, request.work);
      const overlay = await sdOverlay(request);
      return {
        args: ['-M', 'raspi3b', '-accel', 'tcg,thread=single', '-no-reboot', '-display', 'none',
          '-chardev', 'stdio,id=console,mux=on,signal=off', '-serial', 'chardev:console', '-serial', 'chardev:console',
          '-kernel', firmware.kernel, ...(firmware.dtb ? ['-dtb', firmware.dtb] : []), '-drive', `if=sd,format=qcow2,file=${overlay}`],
      };
    }
  }
}

export async function bootCard(request: BootRequest): Promise<BootRun> {
  const { machine } = request;
  const { args } = await launch(machine.id, request);
  return runQemu({
    name: request.name,
    binary: machine.qemu,
    args,
    deadlineMs: request.deadlineMs ?? machine.deadlineMs,
    marker: request.marker,
    failures: MILESTONES.failures,
    milestones: MILESTONES.all,
    graceMs: 5_000,
    endLine: machine.endLine,
  });
}
