/**
 * A card made only by Cardsmith, the way a user would make one: `cardsmith build` turns the test
 * root tarball, kernel, dtb and initramfs into an image for the board; `cardsmith flash` writes it
 * to a loop device standing in for the card (--allow-loop) and `cardsmith verify` reads it back;
 * then the card is copied into a sparse file, as a card reader would read it, and that file is
 * what QEMU boots (never written: overlays or snapshot=on). The harness adds nothing to the card.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ResultSchemas, type ResultOf } from '../../electron/engine/api';
import { withLoopDevice } from '../helpers/loop';
import { copySparse } from './card-file';
import { buildInitramfs } from './initramfs';
import { dtbPath, kernelImage, type Machine } from './machines';
import { buildRootfs } from './rootfs';

const run = promisify(execFile);

export const CARDSMITH_CLI = join(__dirname, '..', '..', 'bin', 'cardsmith.cjs');

/** Runs the cardsmith CLI; a non-zero exit throws with the command and everything it printed. */
export async function cardsmith(args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [CARDSMITH_CLI, ...args], { maxBuffer: 16 << 20 });
    return stdout;
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    throw new Error(`cardsmith ${args.join(' ')} exited with ${failed.code}:\n${failed.stderr ?? ''}${failed.stdout ?? ''}`);
  }
}

/** `cardsmith inspect --json` of a card file: its table, partitions and the loaders found. */
export async function inspectCard(card: string): Promise<ResultOf<'inspect'>> {
  const events = (await cardsmith(['inspect', card, '--json'])).trim().split('\n').map((line) => JSON.parse(line) as { type: string; result?: unknown });
  const result = events.find((event) => event.type === 'result');
  if (!result) throw new Error(`cardsmith inspect ${card} printed no result`);
  return ResultSchemas.inspect.parse(result.result);
}

export interface CardRequest {
  readonly machine: Machine;
  /** Scratch folder for the tarball, initramfs, image and card file. */
  readonly work: string;
  readonly cardBytes: number;
  /** `--root-size` for cardsmith build; the builder's default when absent. */
  readonly rootSize?: string;
  /** Customisation flags for the build; the rootfs then has what they need (see rootfs.ts). */
  readonly customise?: { readonly zone: string; readonly args: readonly string[] };
}

export interface Card {
  /** The card's bytes as copied from the flashed loop device. */
  readonly file: string;
  readonly sizeBytes: number;
  /** Nonce of the root tarball on this card; its /sbin/init prints it in the marker line. */
  readonly nonce: string;
}

export async function makeCard(request: CardRequest): Promise<Card> {
  const { machine, work } = request;
  const rootfs = buildRootfs(machine.busybox, request.customise?.zone);
  const tarball = join(work, 'rootfs.tar');
  const initrd = join(work, 'initrd.img');
  const image = join(work, 'image.img');
  writeFileSync(tarball, rootfs.tarball);
  writeFileSync(initrd, buildInitramfs({ busybox: machine.busybox, kernelRoot: machine.kernelRoot, modules: machine.modules }));

  const bootFiles = join(work, 'boot-files');
  for (const name of machine.firmwareStandIns ?? []) {
    mkdirSync(bootFiles, { recursive: true });
    writeFileSync(join(bootFiles, name), `Cardsmith boot test stand-in for ${name}: QEMU cannot run the VideoCore firmware, the harness plays it.\n`);
  }

  const dtb = dtbPath(machine);
  const recipe = [
    '--board', machine.board, '--rootfs', tarball, '--kernel', kernelImage(machine.kernelRoot), '--initrd', initrd,
    ...(dtb ? ['--dtb', dtb] : []),
    ...(machine.loaderFrom ? ['--loader-from', machine.loaderFrom] : []),
    ...(machine.firmwareStandIns ? ['--boot-files', bootFiles] : []),
    ...(request.rootSize ? ['--root-size', request.rootSize] : []),
    '--cmdline', `console=${machine.console} loglevel=4`,
    ...(request.customise?.args ?? []),
  ];

  const file = join(work, 'card.img');
  // A fill root is sized by the card, so that card is built and flashed in one step (flash verifies).
  if (request.rootSize === 'fill') {
    const sizeBytes = await withLoopDevice({ sizeBytes: request.cardBytes }, async (loop) => {
      await cardsmith(['flash', ...recipe, '--device', loop.device, '--allow-loop', '--yes']);
      return copySparse(loop.device, file);
    });
    return { file, sizeBytes, nonce: rootfs.nonce };
  }
  await cardsmith(['build', ...recipe, '-o', image]);
  const sizeBytes = await withLoopDevice({ sizeBytes: request.cardBytes }, async (loop) => {
    await cardsmith(['flash', image, '--device', loop.device, '--allow-loop', '--yes']);
    await cardsmith(['verify', image, '--device', loop.device, '--allow-loop']);
    return copySparse(loop.device, file);
  });
  return { file, sizeBytes, nonce: rootfs.nonce };
}
