import { formatBytes } from './render';
import { requestCommand, requireString, UsageError, type ParsedValues } from './command';
import type { BuildRecipe, FlashBuild } from '../engine/api';
import { CUSTOMISE_OPTIONS, CUSTOMISE_USAGE, customiseFrom } from './customise-flags';

const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Parses `minimal`, `minimal+512M`, `fill` or a size such as `2G` / `1536M`. */
export function parseRootSize(text: string): BuildRecipe['rootSize'] {
  if (text === 'fill') return { mode: 'fill' };
  const minimal = /^minimal(?:\+(\d+)([KMGT]?)i?B?)?$/i.exec(text);
  if (minimal) {
    return minimal[1] ? { mode: 'minimal', headroomBytes: Number(minimal[1]) * SIZE_UNITS[(minimal[2] ?? '').toUpperCase()]! } : { mode: 'minimal' };
  }
  const fixed = /^(\d+)([KMGT]?)i?B?$/i.exec(text);
  if (fixed) return { mode: 'fixed', bytes: Number(fixed[1]) * SIZE_UNITS[(fixed[2] ?? '').toUpperCase()]! };
  throw new UsageError(`--root-size "${text}": expected minimal, minimal+<size>, fill or a size like 2G`);
}

/** Parses a byte size such as `512M`, `64G` or `1000000000`. */
export function parseSize(text: string, option: string): number {
  const size = /^(\d+)([KMGT]?)i?B?$/i.exec(text);
  if (!size) throw new UsageError(`--${option} "${text}": expected a size like 512M or 64G`);
  return Number(size[1]) * SIZE_UNITS[(size[2] ?? '').toUpperCase()]!;
}

function parseTable(text: string | undefined): FlashBuild['table'] {
  if (text === undefined || text === 'mbr' || text === 'gpt') return text ?? 'mbr';
  throw new UsageError(`--table "${text}": expected mbr or gpt`);
}

function optional(values: ParsedValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** The recipe options `cardsmith build` and `cardsmith flash` share. */
export const RECIPE_OPTIONS = {
  board: { type: 'string' },
  rootfs: { type: 'string' },
  'boot-files': { type: 'string' },
  kernel: { type: 'string' },
  dtb: { type: 'string' },
  initrd: { type: 'string' },
  cmdline: { type: 'string' },
  'root-size': { type: 'string' },
  table: { type: 'string' },
  'loader-from': { type: 'string' },
  ...CUSTOMISE_OPTIONS,
} as const;

/** The recipe those options describe (the image's name and bmap are the build command's own). */
export async function recipeFrom(values: ParsedValues): Promise<FlashBuild> {
  const customise = await customiseFrom(values);
  return {
    board: requireString(values, 'board'),
    rootfs: requireString(values, 'rootfs'),
    rootSize: parseRootSize(optional(values, 'root-size') ?? 'minimal'),
    table: parseTable(optional(values, 'table')),
    bootFiles: optional(values, 'boot-files'),
    kernel: optional(values, 'kernel'),
    dtb: optional(values, 'dtb'),
    initrd: optional(values, 'initrd'),
    cmdline: optional(values, 'cmdline'),
    loaderFrom: optional(values, 'loader-from'),
    ...(customise ? { customise } : {}),
  };
}

/** `--card-size`, the card a `fill` root is built for. */
function cardSizeFrom(values: ParsedValues): { cardSizeBytes?: number } {
  const cardSize = optional(values, 'card-size');
  return cardSize === undefined ? {} : { cardSizeBytes: parseSize(cardSize, 'card-size') };
}

export const buildCommand = requestCommand<'build'>({
  name: 'build',
  summary: 'Build a bootable card image from a root filesystem (tar or folder), rootless',
  usage: [
    'cardsmith build --board <id> --rootfs <tar|dir> -o card.img [--bmap card.bmap]',
    '  [--boot-files <dir>] [--kernel <path>] [--dtb <path>] [--initrd <path>] [--cmdline <text>]',
    '  [--root-size minimal|minimal+<size>|<size>|fill] [--card-size <size>] [--table mbr|gpt]',
    '  [--loader-from <file|dir|deb|url>]',
    CUSTOMISE_USAGE,
    '  --root-size fill needs --card-size: the image (and its root filesystem) is built at that size',
  ].join('\n'),
  options: {
    ...RECIPE_OPTIONS,
    output: { type: 'string', short: 'o' },
    bmap: { type: 'string' },
    'card-size': { type: 'string' },
  },
  async toRequest(values) {
    const recipe: BuildRecipe = { ...(await recipeFrom(values)), output: requireString(values, 'output'), bmap: optional(values, 'bmap'), ...cardSizeFrom(values) };
    return { op: 'build', recipe };
  },
  printHuman(result, io) {
    io.out(`${result.output}: ${formatBytes(result.sizeBytes)} (data ${formatBytes(result.dataBytes)}, metadata ${formatBytes(result.metadataBytes)}, free ${formatBytes(result.freeBytes)})\n`);
    if (result.bmap) io.out(`bmap: ${result.bmap}\n`);
  },
});

export const planCommand = requestCommand<'planBuild'>({
  name: 'plan',
  summary: 'Show the card a build would make (partitions, loader writes) without writing anything',
  usage: [
    'cardsmith plan --board <id> --rootfs <tar|dir> [--root-size …] [--card-size <size>] [--table mbr|gpt]',
    '  [--boot-files <dir>] [--kernel <path>] [--dtb <path>] [--initrd <path>] [--loader-from <file|dir|deb|url>]',
    CUSTOMISE_USAGE,
    '  reads the rootfs (metadata only) to size the root exactly; the same options as `cardsmith build`',
  ].join('\n'),
  options: { ...RECIPE_OPTIONS, 'card-size': { type: 'string' } },
  toRequest: async (values) => ({ op: 'planBuild', recipe: { ...(await recipeFrom(values)), ...cardSizeFrom(values) } }),
  printHuman(plan, io) {
    io.out(`image: ${formatBytes(plan.sizeBytes)}, partition table ${plan.table}; the root needs at least ${formatBytes(plan.rootNeededBytes)}\n`);
    for (const p of plan.partitions) {
      io.out(`  part ${p.index}: ${p.start}..${p.start + p.size} (${formatBytes(p.size)}) type ${p.type}${p.bootable ? ' bootable' : ''} ${p.filesystem ?? ''} "${p.label ?? ''}"\n`);
    }
    for (const w of plan.loaderWrites) io.out(`  loader ${w.file} at byte ${w.offset} (${w.length} bytes)\n`);
    if (plan.customisedFiles) io.out(`customisation writes:\n${plan.customisedFiles.map((path) => `  ${path}\n`).join('')}`);
  },
});
