/**
 * What the Raspberry Pi's VideoCore firmware would load, for QEMU's raspi3b, which cannot run
 * that firmware: config.txt on the first FAT partition names the kernel (`kernel=`, default
 * kernel8.img with arm_64bit=1, else kernel7.img) and the device tree: `device_tree=` if set,
 * else the downstream name bcm2710-rpi-3-b.dtb for a Pi 3 B — or, with `upstream_kernel=1`, the
 * kernel.org name bcm2837-rpi-3-b.dtb first, falling back to the downstream one. A dtb of any
 * other name is not found, and the firmware then starts the kernel with no device tree.
 * Lines under a conditional section apply only when it
 * matches this board: [all], [pi3] do, other [piN] / [pi0…] / [cm…] sections do not; other
 * filters ([HDMI:…], [gpio…], [0x…]) are not modelled and skipped.
 */

export interface FirmwareChoice {
  readonly kernel: string;
  /** Device tree files the firmware tries, in order; it loads the first one present. */
  readonly deviceTrees: readonly string[];
}

const DOWNSTREAM_DTB = 'bcm2710-rpi-3-b.dtb';
const UPSTREAM_DTB = 'bcm2837-rpi-3-b.dtb';

export function parseConfigTxt(text: string): FirmwareChoice {
  const settings = new Map<string, string>();
  let applies = true;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.replace(/#.*/, '').trim();
    if (line === '') continue;
    const section = /^\[(.*)\]$/.exec(line);
    if (section) {
      const filter = section[1]!.toLowerCase();
      applies = filter === 'all' || filter === 'pi3';
      continue;
    }
    const equals = line.indexOf('=');
    if (applies && equals > 0) settings.set(line.slice(0, equals).trim(), line.slice(equals + 1).trim());
  }
  const arm64 = settings.get('arm_64bit') === '1';
  return {
    kernel: settings.get('kernel') ?? (arm64 ? 'kernel8.img' : 'kernel7.img'),
    deviceTrees: settings.has('device_tree')
      ? [settings.get('device_tree')!]
      : settings.get('upstream_kernel') === '1'
        ? [UPSTREAM_DTB, DOWNSTREAM_DTB]
        : [DOWNSTREAM_DTB],
  };
}
