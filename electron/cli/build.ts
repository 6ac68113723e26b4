import { formatBytes } from './render';
import { requestCommand, requireString, UsageError, type ParsedValues } from './command';
import type { BuildRecipe } from '../engine/api';

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

function optional(values: ParsedValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export const buildCommand = requestCommand<'build'>({
  name: 'build',
  summary: 'Build a bootable card image from a root filesystem (tar or folder), rootless',
  usage: [
    'cardsmith build --board <id> --rootfs <tar|dir> -o card.img [--bmap card.bmap]',
    '  [--boot-files <dir>] [--kernel <path>] [--dtb <path>] [--initrd <path>] [--cmdline <text>]',
    '  [--root-size minimal|minimal+<size>|<size>|fill] [--loader-from <file|dir|deb|url>]',
  ].join('\n'),
  options: {
    board: { type: 'string' },
    rootfs: { type: 'string' },
    output: { type: 'string', short: 'o' },
    bmap: { type: 'string' },
    'boot-files': { type: 'string' },
    kernel: { type: 'string' },
    dtb: { type: 'string' },
    initrd: { type: 'string' },
    cmdline: { type: 'string' },
    'root-size': { type: 'string' },
    'loader-from': { type: 'string' },
  },
  toRequest(values) {
    const recipe: BuildRecipe = {
      board: requireString(values, 'board'),
      rootfs: requireString(values, 'rootfs'),
      output: requireString(values, 'output'),
      rootSize: parseRootSize(optional(values, 'root-size') ?? 'minimal'),
      bmap: optional(values, 'bmap'),
      bootFiles: optional(values, 'boot-files'),
      kernel: optional(values, 'kernel'),
      dtb: optional(values, 'dtb'),
      initrd: optional(values, 'initrd'),
      cmdline: optional(values, 'cmdline'),
      loaderFrom: optional(values, 'loader-from'),
    };
    return { op: 'build', recipe };
  },
  printHuman(result, io) {
    io.out(`${result.output}: ${formatBytes(result.sizeBytes)} (data ${formatBytes(result.dataBytes)}, metadata ${formatBytes(result.metadataBytes)}, free ${formatBytes(result.freeBytes)})\n`);
    if (result.bmap) io.out(`bmap: ${result.bmap}\n`);
  },
});
