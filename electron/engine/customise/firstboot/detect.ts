/**
 * Which first-boot mechanism a downloaded image has, and the edits that hand it the settings.
 * The catalog's word comes first (Imager's os_list `init_format`); without it the boot FAT tells:
 * cloud-init NoCloud seeds there (user-data or meta-data, as on Ubuntu's preinstalled server)
 * mean cloud-init, cmdline.txt with config.txt and no seeds mean a Raspberry Pi OS–style systemd
 * firstrun; without either, an ext4 root holding Armbian's pending first-login preset means
 * armbian (armbian.ts). Anything else is refused with the reason: settings are never silently
 * dropped.
 */
import { readDiskLayout, type ReadAt } from '../../disk/read-layout';
import { CardsmithError } from '../../errors';
import { english, message, type Message } from '../../messages';
import type { Patch } from '../../flash/patch';
import { editExt4 } from '../../fs/ext4/edit';
import { editFat, type FatAddition } from '../../fs/fat/edit';
import { FatVolume, findEntry, parseBpb } from '../../fs/fat/volume';
import type { Customise } from '../model';
import { armbianFiles, findArmbianRoot, type ArmbianRoot, type ArmbianSearch } from './armbian';
import { metaData, networkConfig, userData } from './cloud-init';
import { firstrunScript, hookedCmdline } from './firstrun';

import { FIRST_BOOT_KINDS, type FirstBootKind } from './summary-model';

export { FIRST_BOOT_KINDS, type FirstBootKind };

export interface FirstBootChoice {
  readonly kind: FirstBootKind;
  /** In words, for the log and the Review. */
  readonly reason: string;
  /** For armbian: the root filesystem to write the preset into. */
  readonly armbian?: ArmbianRoot;
}

export interface BootFat {
  readonly offset: number;
  readonly volume: FatVolume;
}

/** The first partition holding a FAT volume (or a whole-disk FAT without a table). */
export async function findBootFat(read: ReadAt, sizeBytes: number): Promise<BootFat | null> {
  // A FAT boot sector also carries 0x55AA, so a table-less FAT volume is tried as one first.
  const layout = await readDiskLayout(read, sizeBytes);
  for (const start of [0, ...layout.partitions.map((p) => p.start)]) {
    try {
      parseBpb(await read(start, 512), start);
    } catch {
      continue;
    }
    return { offset: start, volume: await FatVolume.open(read, start) };
  }
  return null;
}

/**
 * How the disk takes first-boot settings. `disk` lets it look past the boot FAT at an Armbian
 * root (only when the FAT does not decide, so a Raspberry Pi OS root is never read).
 */
export async function chooseFirstBoot(fat: BootFat | null, initFormat: string | undefined, disk?: { read: ReadAt; sizeBytes: number }): Promise<FirstBootChoice> {
  const armbian = async (): Promise<ArmbianSearch> => (disk ? findArmbianRoot(disk.read, disk.sizeBytes) : { root: null, reason: 'its root filesystem was not read', said: [message('armbian.why.notRead')] });
  if (initFormat !== undefined) {
    if (!(FIRST_BOOT_KINDS as readonly string[]).includes(initFormat)) {
      throw CardsmithError.keyed('bad-input', 'firstboot.unknownFormat', { format: initFormat, known: FIRST_BOOT_KINDS.join(', ') }, { initFormat });
    }
    if (initFormat !== 'armbian') return { kind: initFormat as FirstBootKind, reason: `the catalog says init_format ${initFormat}` };
    const found = await armbian();
    if (!found.root) throw notArmbian(message('firstboot.notArmbian'), `The catalog says this is an Armbian image, but ${found.reason}`, found);
    return { kind: 'armbian', reason: `the catalog says init_format armbian and ${found.reason}`, armbian: found.root };
  }
  if (fat) {
    const root = await fat.volume.loadRoot();
    const has = (name: string): boolean => findEntry(root, name) !== undefined;
    if (has('user-data') || has('meta-data')) return { kind: 'cloudinit', reason: `the boot partition at byte ${fat.offset} holds cloud-init NoCloud seeds` };
    if (has('cmdline.txt') && has('config.txt')) return { kind: 'systemd', reason: `the boot partition at byte ${fat.offset} has cmdline.txt and config.txt (Raspberry Pi OS style) and no cloud-init seeds` };
  }
  const found = await armbian();
  if (found.root) return { kind: 'armbian', reason: found.reason, armbian: found.root };
  const main = fat ? message('firstboot.unknownImage', { offset: fat.offset }) : message('firstboot.noFat');
  throw notArmbian(main, `${english(main)} (${found.reason})`, found, fat ? { offset: fat.offset } : {});
}

/** A refusal that names why the disk is no Armbian image: in the English line inline, for the app as keyed notes. */
function notArmbian(main: Message, text: string, found: ArmbianSearch, details: Record<string, unknown> = {}): CardsmithError {
  return CardsmithError.fromInfo({ cause: 'bad-input', message: text, key: main.key, params: main.params, details, notes: [...found.said] });
}

/** The files the mechanism reads, with their contents, for `settings`. */
export async function firstBootFiles(kind: FirstBootKind, fat: BootFat, settings: Customise, instanceId: string): Promise<FatAddition[]> {
  const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
  if (kind === 'systemd') {
    const cmdline = await fat.volume.readFile('cmdline.txt');
    if (!cmdline) throw CardsmithError.keyed('bad-input', 'firstboot.noCmdline', { offset: fat.offset }, { offset: fat.offset });
    return [
      { path: 'firstrun.sh', bytes: utf8(firstrunScript(settings)) },
      { path: 'cmdline.txt', bytes: utf8(hookedCmdline(new TextDecoder().decode(cmdline))) },
    ];
  }
  const network = networkConfig(settings);
  return [
    { path: 'user-data', bytes: utf8(userData(settings)) },
    ...(network ? [{ path: 'network-config', bytes: utf8(network) }] : []),
    { path: 'meta-data', bytes: utf8(metaData(settings, instanceId)) },
  ];
}

export interface FirstBootEdit {
  readonly choice: FirstBootChoice;
  readonly files: readonly string[];
  readonly patches: readonly Patch[];
}

/** Everything needed to customise the disk `read` sees (an image or a card as it will be). */
export async function firstBootEdit(read: ReadAt, sizeBytes: number, settings: Customise, options: { initFormat?: string; mtime: number; instanceId: string }): Promise<FirstBootEdit> {
  const fat = await findBootFat(read, sizeBytes);
  const choice = await chooseFirstBoot(fat, options.initFormat, { read, sizeBytes });
  if (choice.armbian) {
    const files = await armbianFiles(read, choice.armbian, settings);
    return { choice, files: files.map((f) => f.path), patches: await editExt4(read, choice.armbian.offset, files, options.mtime) };
  }
  if (!fat) throw CardsmithError.keyed('bad-input', 'firstboot.noFatFor', { kind: choice.kind }, {});
  const files = await firstBootFiles(choice.kind, fat, settings, options.instanceId);
  const patches = await editFat(read, fat.offset, files, options.mtime);
  return { choice, files: files.map((f) => f.path), patches };
}
