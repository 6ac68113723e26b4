/**
 * Boot configuration text for the boot partition. U-Boot's distro boot reads
 * /extlinux/extlinux.conf from the first bootable partition it finds: kernel, initrd, device tree
 * and the kernel command line, whose `root=PARTUUID=…` names the root partition by the table's
 * identity (MBR: `<disk signature>-<nn>`, GPT: the partition's unique GUID), so it holds whatever
 * the card shows up as. The Raspberry Pi firmware instead reads config.txt from the FAT root,
 * which here loads U-Boot (`kernel=u-boot.bin`) and hands it the device tree the firmware loaded.
 */
export interface ExtlinuxInput {
  readonly title: string;
  readonly kernel: string;
  readonly initrd?: string;
  /** Absent: U-Boot passes on the device tree it already has (firmware's, or QEMU's). */
  readonly fdt?: string;
  readonly append: string;
}

export function extlinuxConf(input: ExtlinuxInput): string {
  return [
    `# Written by Cardsmith for ${input.title}.`,
    'default cardsmith',
    'timeout 10',
    `menu title ${input.title}`,
    '',
    'label cardsmith',
    `    menu label Linux (${input.kernel.replace(/^\//, '')})`,
    `    linux ${input.kernel}`,
    ...(input.initrd ? [`    initrd ${input.initrd}`] : []),
    ...(input.fdt ? [`    fdt ${input.fdt}`] : []),
    `    append ${input.append}`,
    '',
  ].join('\n');
}

/**
 * The kernel command line: the root by PARTUUID, the board's serial console, then the user's
 * words; the user's own root= or console= replaces ours.
 */
export function kernelCommandLine(rootPartUuid: string, console: string | undefined, extra: string | undefined): string {
  const words = (extra ?? '').split(/\s+/).filter(Boolean);
  const has = (key: string): boolean => words.some((word) => word.startsWith(`${key}=`));
  return [
    ...(has('root') ? [] : [`root=PARTUUID=${rootPartUuid}`, 'rootwait', 'rw']),
    ...(console && !has('console') ? [`console=${console}`] : []),
    ...words,
  ].join(' ');
}

export function configTxt(lines: readonly string[], boardName: string): string {
  return [`# Written by Cardsmith for ${boardName}.`, ...lines, ''].join('\n');
}
