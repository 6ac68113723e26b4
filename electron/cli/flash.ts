import { createInterface } from 'node:readline/promises';
import { runRequest } from '../engine/operations';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, execute, requireString, UsageError, type Command, type CommandIO, type ParsedValues } from './command';
import { formatBytes } from './render';
import { recipeFrom, RECIPE_OPTIONS } from './build';
import { CUSTOMISE_USAGE, customiseFrom } from './customise-flags';

/** One line naming the drive about to be erased, from a fresh scan (every drive, with reasons). */
export async function describeTarget(device: string, allowLoop: boolean): Promise<string> {
  const listed = await runRequest<'listDrives'>({ op: 'listDrives', all: true, includeLoop: allowLoop }, () => undefined);
  const drive = listed?.drives.find((d) => d.device === device);
  if (!drive) return `${device} (not found among the drives; the writer will refuse it)`;
  const size = drive.sizeBytes === null ? 'unknown size' : formatBytes(drive.sizeBytes);
  const notes = [...drive.unsafeReasons.map((r) => `UNSAFE: ${r}`), ...drive.warnings];
  return `${drive.device}: ${drive.description}, ${size}${drive.mountpoints.length ? `, mounted at ${drive.mountpoints.join(', ')}` : ''}${notes.length ? ` (${notes.join('; ')})` : ''}`;
}

export async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

const HOLE_POLICIES = ['skip', 'read-first', 'zero'] as const;

function holePolicy(value: unknown): (typeof HOLE_POLICIES)[number] | undefined {
  if (value === undefined) return undefined;
  const found = HOLE_POLICIES.find((p) => p === value);
  if (!found) throw new UsageError(`--holes takes ${HOLE_POLICIES.join(', ')}, not ${String(value)}`);
  return found;
}

export const flashCommand: Command = {
  name: 'flash',
  summary: "Write an image (file, URL or catalog id) and the board's loader to a card, then verify",
  usage: [
    'cardsmith flash <image|url|catalog-id> --device <dev> [--device <dev2> …] [--board <id>] [--loader-from <file|dir|deb|url>]',
    '  [--bmap <file>] [--no-verify] [--holes skip|read-first|zero] [--eject] [--yes] [--json]',
    '  several --device: the image is read once and written to every card, each verified on its own;',
    '  one line per card and a summary; the exit code is 1 when any card failed',
    '  --bmap names the image\'s block map (default: one beside it: card.img.bmap, card.bmap)',
    '  --holes: what a bmap\'s unmapped blocks get — skip (default: left as they are), read-first',
    '  (zeros written only where the card is not zero) or zero (all written: a fully deterministic card)',
    '  [--init-format systemd|cloudinit|cloudinit-rpi|armbian]: with customisation flags, first-boot files go into',
    '  the image\'s FAT boot partition (Armbian: its first-login preset in the ext4 root); the mechanism comes from',
    '  --init-format, the catalog entry or the image itself (else it is refused)',
    'cardsmith flash --board <id> --rootfs <tar|dir> --device <dev> [--root-size …|fill] [--table mbr|gpt]',
    '  [--boot-files <dir>] [--kernel …] [--initrd …] [--dtb …] [--cmdline …] [--loader-from …]',
    CUSTOMISE_USAGE,
    '  builds the recipe for this card (fill: root filesystem at card size) and flashes it',
    '  without --yes, shows the target and asks; --allow-loop (development) accepts a loop device',
  ].join('\n'),
  options: {
    ...RECIPE_OPTIONS,
    device: { type: 'string', short: 'd', multiple: true },
    bmap: { type: 'string' },
    'no-verify': { type: 'boolean', default: false },
    holes: { type: 'string' },
    eject: { type: 'boolean', default: false },
    yes: { type: 'boolean', short: 'y', default: false },
    'allow-loop': { type: 'boolean', default: false },
    'init-format': { type: 'string' },
  },
  allowPositionals: true,
  async run(values, positionals, io) {
    const [source] = positionals;
    const building = typeof values.rootfs === 'string';
    if (building === (source !== undefined)) throw new UsageError('give either an image, URL or catalog id, or a recipe (--rootfs with --board)');
    const build = building ? await recipeFrom(values) : undefined;
    const customise = building ? undefined : await customiseFrom(values);
    const initFormat = typeof values['init-format'] === 'string' ? values['init-format'] : undefined;
    if (initFormat !== undefined && !customise) throw new UsageError('--init-format only matters with customisation flags');
    const devices = Array.isArray(values.device) ? values.device.filter((d): d is string => typeof d === 'string') : [];
    if (devices.length === 0) throw new UsageError('--device is required');
    if (devices.length > 1) {
      if (building || customise) throw new UsageError('several --device take an image only (no recipe, no customisation flags)');
      return flashMany(source as string, devices, values, io);
    }
    const device = devices[0] as string;
    const bmap = typeof values.bmap === 'string' ? values.bmap : undefined;
    if (building && bmap !== undefined) throw new UsageError('--bmap names the block map of an image; a recipe flash makes its own');
    if (values.yes !== true) {
      io.err(`Target: ${await describeTarget(device, values['allow-loop'] === true)}\n`);
      const what = build ? `a build of ${build.rootfs}` : source;
      const ok = await confirm(`Everything on ${device} will be erased and replaced by ${what}. Type "yes" to continue: `);
      if (!ok) {
        io.err('Not confirmed; nothing was written. Use --yes to skip the question.\n');
        return EXIT_USAGE;
      }
    }
    const outcome = await execute<'flash'>(
      {
        op: 'flash',
        ...(build ? { build } : { source }),
        device,
        board: typeof values.board === 'string' ? values.board : undefined,
        loaderFrom: typeof values['loader-from'] === 'string' ? values['loader-from'] : undefined,
        bmap,
        verify: values['no-verify'] !== true,
        holes: holePolicy(values.holes),
        eject: values.eject === true,
        allowLoop: values['allow-loop'] === true,
        ...(customise ? { customise } : {}),
        ...(initFormat !== undefined ? { initFormat } : {}),
      },
      io,
      values.verbose === true,
    );
    if (!outcome.ok) return outcome.exitCode;
    if (!io.json) {
      const r = outcome.result;
      io.out(`${r.device}: wrote ${formatBytes(r.bytesWritten)}, ${r.verified ? 'verified' : 'not verified'}${r.logFile ? `; log ${r.logFile}` : ''}\n`);
    }
    return EXIT_OK;
  },
};

/** `flash` onto several cards: one flashMany job, one line per card, then a summary. */
async function flashMany(source: string, devices: readonly string[], values: ParsedValues, io: CommandIO): Promise<number> {
  if (new Set(devices).size !== devices.length) throw new UsageError('each --device may be named once');
  if (values.yes !== true) {
    for (const device of devices) io.err(`Target: ${await describeTarget(device, values['allow-loop'] === true)}\n`);
    const ok = await confirm(`Everything on these ${devices.length} cards will be erased and replaced by ${source}. Type "yes" to continue: `);
    if (!ok) {
      io.err('Not confirmed; nothing was written. Use --yes to skip the question.\n');
      return EXIT_USAGE;
    }
  }
  const outcome = await execute<'flashMany'>(
    {
      op: 'flashMany',
      source,
      devices: [...devices],
      board: typeof values.board === 'string' ? values.board : undefined,
      loaderFrom: typeof values['loader-from'] === 'string' ? values['loader-from'] : undefined,
      bmap: typeof values.bmap === 'string' ? values.bmap : undefined,
      verify: values['no-verify'] !== true,
      holes: holePolicy(values.holes),
      eject: values.eject === true,
      allowLoop: values['allow-loop'] === true,
    },
    io,
    values.verbose === true,
  );
  if (!outcome.ok) return outcome.exitCode;
  const cards = outcome.result.cards;
  const good = cards.filter((c) => c.ok).length;
  if (!io.json) {
    for (const c of cards) {
      if (c.ok) io.out(`${c.device}: wrote ${formatBytes(c.bytesWritten)}, ${c.verified ? 'verified' : 'not verified'}${c.logFile ? `; log ${c.logFile}` : ''}\n`);
      else io.out(`${c.device}: FAILED (${c.error?.cause}): ${c.error?.message}${c.logFile ? `; log ${c.logFile}` : ''}\n`);
    }
    io.out(`${good} of ${cards.length} cards written${good === cards.length ? '' : `, ${cards.length - good} failed`}\n`);
  }
  return good === cards.length ? EXIT_OK : EXIT_FAILED;
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'Compare a card with an image (or its bmap checksums) and the board loader',
  usage: [
    'cardsmith verify --device <dev> <image|url|bmap> [--board <id> [--loader-from <file|dir|deb|url>]] [--json]',
    '  --allow-loop (development) accepts a loop device',
  ].join('\n'),
  options: { device: { type: 'string', short: 'd' }, board: { type: 'string' }, 'loader-from': { type: 'string' }, 'allow-loop': { type: 'boolean', default: false } },
  allowPositionals: true,
  async run(values, positionals, io) {
    const [source] = positionals;
    if (!source) throw new UsageError('an image, URL or bmap is required');
    const outcome = await execute<'verify'>(
      {
        op: 'verify',
        source,
        device: requireString(values, 'device'),
        board: typeof values.board === 'string' ? values.board : undefined,
        loaderFrom: typeof values['loader-from'] === 'string' ? values['loader-from'] : undefined,
        allowLoop: values['allow-loop'] === true,
      },
      io,
      values.verbose === true,
    );
    if (!outcome.ok) return outcome.exitCode;
    const r = outcome.result;
    if (!io.json) {
      if (r.ok) io.out(`${r.device}: verified ${formatBytes(r.bytesChecked)}, identical\n`);
      else for (const m of r.mismatches) io.out(`${r.device}: MISMATCH bytes ${m.start}..${m.end - 1} (${m.end - m.start} bytes)\n`);
    }
    return r.ok ? EXIT_OK : EXIT_FAILED;
  },
};
