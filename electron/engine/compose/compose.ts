/**
 * The image builder: recipe → card image. Order matters for safety — every decision is made and
 * checked before a byte is written: read the rootfs metadata (a damaged archive fails here),
 * apply the recipe's customisation to that tree (customise-tree.ts; a setting the rootfs cannot
 * honour fails here), plan the ext4 root exactly, plan the FAT boot partition, place the
 * partitions, check the loader writes against the resulting table (genimage-style overlap refusal) and check the free space. Only
 * then is the image written, under a temporary name beside the output: ext4 first (its content
 * stream also yields the kernel, initrd and device tree for the FAT), then the FAT, the partition
 * table and the loader; the file is synced, the bmap computed, and both renamed into place.
 * Any failure removes the partial file.
 */
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { BuildRecipe, ResultOf } from '../api';
import { findBoard } from '../boards/db';
import type { Board } from '../boards/model';
import { planLoaderWrites } from '../boards/planner';
import { CardsmithError } from '../errors';
import { planExt4, writeExt4, type Ext4Plan, type Ext4Size } from '../fs/ext4/ext4';
import { MIN_JOURNAL_BLOCKS } from '../fs/ext4/geometry';
import { chooseGeometry, fatSizeFor, planFat, SECTOR, type FatPlan } from '../fs/fat/layout';
import { writeFat } from '../fs/fat/write';
import { FileSink, offsetSink } from '../fs/sink';
import type { FileNode, TreeSource } from '../fs/tree';
import type { TarWarnings } from '../fs/tree-tar';
import { u32FromSeed } from '../disk/guid';
import type { JobContext } from '../job';
import { blockRuns, bmapXml, hashRuns } from './bmap';
import { captureContents, findBootArtifacts, type FoundFile } from './boot-artifacts';
import { kernelCommandLine } from './boot-config';
import { bootTree, hostFile, hostFolder, type BootFile } from './boot-tree';
import { layoutOf, planDisk, rootPartUuid, rootStartOf, type DiskPlanInput, type TableKind } from './disk-plan';
import { redacted } from '../customise/model';
import { customiseRootfs } from './customise-tree';
import { checkOutput, loaderFor, openRootfsInput } from './inputs';
import { message } from '../messages';

const MIB = 1024 * 1024;
/** The boot partition holds its files plus room for a kernel update by hand, and no more. */
const BOOT_MIN_BYTES = 16 * MIB;
const BOOT_MIN_HEADROOM = 8 * MIB;

/** A recipe as far as planning goes: where the image is written does not change it. */
type PlanRecipe = Omit<BuildRecipe, 'output' | 'bmap'>;

export interface BuildSettings {
  /** Seeds every UUID, GUID, disk signature and volume id. */
  readonly seed: string;
  /** SOURCE_DATE_EPOCH: the time of everything generated. */
  readonly timestamp: number;
  readonly table: TableKind;
}

/** Settings from the environment: SOURCE_DATE_EPOCH and CARDSMITH_SEED make builds reproducible. */
export function settingsFromEnv(env: NodeJS.ProcessEnv, recipe: Pick<BuildRecipe, 'board' | 'table'>): BuildSettings {
  const epoch = Number(env.SOURCE_DATE_EPOCH);
  const timestamp = Number.isInteger(epoch) && epoch >= 0 ? epoch : Math.floor(Date.now() / 1000);
  return { seed: env.CARDSMITH_SEED ?? `${recipe.board}:${timestamp}`, timestamp, table: recipe.table };
}

/** `fillBytes`: the room a `fill` root has on the card (from the partition placement). */
function ext4Size(recipe: PlanRecipe, fillBytes: number | null): Ext4Size {
  switch (recipe.rootSize.mode) {
    case 'minimal':
      return { kind: 'minimal', alignBytes: MIB, ...(recipe.rootSize.headroomBytes !== undefined ? { headroomBytes: recipe.rootSize.headroomBytes } : {}) };
    case 'fixed':
      return { kind: 'fixed', bytes: Math.floor(recipe.rootSize.bytes / MIB) * MIB };
    case 'fill':
      if (fillBytes === null) {
        throw CardsmithError.keyed('bad-input', 'build.fillNeedsCard', {}, {
          rootSize: 'fill',
        });
      }
      return { kind: 'fixed', bytes: fillBytes };
  }
}

/**
 * The root size that fills a card of `cardBytes`: from the root's start (which the boot partition
 * decides) to the card's end, whole MiB, less the MiB a GPT keeps for its backup.
 */
function fillRootBytes(recipe: PlanRecipe, placement: Omit<DiskPlanInput, 'rootBytes'>, table: TableKind): number | null {
  if (recipe.rootSize.mode !== 'fill' || recipe.cardSizeBytes === undefined) return null;
  const rootStart = rootStartOf(placement);
  const room = Math.floor((recipe.cardSizeBytes - rootStart - (table === 'gpt' ? MIB : 0)) / MIB) * MIB;
  if (room <= 0) {
    throw CardsmithError.keyed('too-small', 'build.cardTooSmall', { cardBytes: recipe.cardSizeBytes, rootStart }, {
      cardSizeBytes: recipe.cardSizeBytes,
      rootStart,
    });
  }
  return room;
}

/**
 * The root's plan. A minimal root is rounded up to whole MiB, so the filesystem fills its
 * MiB-aligned partition, and keeps minimal's policy of no blocks reserved for root, so the
 * headroom is free for whoever logs in. It holds a finished system, not a working disk: it gets
 * jbd2's smallest journal (4 MiB, what mke2fs gives filesystems under 128 MiB) instead of the
 * 16–64 MiB mke2fs would size for the whole image, which would otherwise be most of the image's
 * overhead. Fixed and fill roots keep mke2fs's journal for their size.
 */
function planRoot(source: TreeSource, recipe: PlanRecipe, settings: BuildSettings, fillBytes: number | null): Ext4Plan {
  const minimal = recipe.rootSize.mode === 'minimal';
  const options = { seed: settings.seed, timestamp: settings.timestamp, label: 'rootfs', ...(minimal ? { journalBlocks: MIN_JOURNAL_BLOCKS } : {}) };
  try {
    return planExt4(source.tree, { ...options, size: ext4Size(recipe, fillBytes) });
  } catch (error) {
    if (!(error instanceof CardsmithError) || error.info.cause !== 'too-small') throw error;
    const needed = Number(error.info.details?.neededBytes);
    throw CardsmithError.keyed('too-small', 'build.rootTooSmall', { rootfs: recipe.rootfs, needed, given: Number(error.info.details?.givenBytes) }, error.info.details, { hint: message('build.rootTooSmallHint', { mib: Math.ceil(needed / MIB) }) });
  }
}

function fromRootfs(found: FoundFile | null, captured: ReadonlyMap<FileNode, Uint8Array>): BootFile | null {
  if (!found) return null;
  return {
    size: found.node.size,
    async *content() {
      const bytes = captured.get(found.node);
      if (!bytes) throw new CardsmithError('internal', `/${found.path} was not captured from the rootfs`, { path: found.path });
      yield bytes;
    },
  };
}

async function override(path: string | undefined, fallback: BootFile | null): Promise<BootFile | null> {
  return path === undefined ? fallback : hostFile(path);
}

/** Everything decided before a byte is written: the filesystems, the partitions and the loader writes. */
interface ImagePlan {
  readonly loader: Awaited<ReturnType<typeof loaderFor>>;
  readonly capture: ReturnType<typeof captureContents>;
  readonly root: Ext4Plan;
  readonly fat: FatPlan;
  readonly disk: ReturnType<typeof planDisk>;
  readonly placedLoader: ReturnType<typeof planLoaderWrites>;
  readonly warnings: TarWarnings;
  /** The rootfs paths the customisation writes. */
  readonly customisedFiles: readonly string[];
}

async function planImage(recipe: PlanRecipe, ctx: JobContext, settings: BuildSettings): Promise<ImagePlan> {
  const board: Board = findBoard(recipe.board);
  ctx.phase('build', 'start', message('phase.build.reading', { board: board.name, rootfs: recipe.rootfs }));
  const loader = await loaderFor(board, recipe.loaderFrom, ctx.signal);
  if (recipe.customise) ctx.log('debug', `customisation: ${JSON.stringify(redacted(recipe.customise))}`);
  const input = await openRootfsInput(recipe.rootfs, settings.timestamp);
  const customised = await customiseRootfs(input, recipe.customise, settings);
  const source = customised.source;
  if (customised.files.length > 0) ctx.log('info', `customisation writes ${customised.files.join(', ')}`);
  ctx.throwIfCancelled();
  for (const message of input.warnings.messages) ctx.log('warn', `${recipe.rootfs}: ${message}`);
  if (input.warnings.count > input.warnings.messages.length) {
    ctx.log('warn', `${recipe.rootfs}: ${input.warnings.count - input.warnings.messages.length} more warnings like these`);
  }

  const artifacts = findBootArtifacts(source.tree, board.dtb);
  const wanted = new Set([artifacts.kernel, artifacts.initrd, artifacts.dtb].flatMap((f) => (f ? [f.node] : [])));
  const capture = captureContents(source.contents(), wanted);
  const version = artifacts.version ?? 'cardsmith';
  const tree = bootTree({
    board,
    mtime: settings.timestamp,
    hostFiles: recipe.bootFiles ? await hostFolder(recipe.bootFiles, settings.timestamp) : [],
    kernel: await override(recipe.kernel, fromRootfs(artifacts.kernel, capture.captured)),
    kernelName: recipe.kernel ? basename(recipe.kernel) : `vmlinuz-${version}`,
    initrd: await override(recipe.initrd, fromRootfs(artifacts.initrd, capture.captured)),
    initrdName: recipe.initrd ? basename(recipe.initrd) : `initrd.img-${version}`,
    dtb: await override(recipe.dtb, fromRootfs(artifacts.dtb, capture.captured)),
    uboot: loader.uboot,
    append: kernelCommandLine(rootPartUuid(settings.table, settings.seed), board.console, [recipe.cmdline ?? '', ...customised.cmdline].join(' ')),
  });
  const contentBytes = tree.children.reduce(function sum(total: number, node): number {
    return node.kind === 'file' ? total + node.size : node.children.reduce(sum, total);
  }, 0);
  const bootBytes = fatSizeFor(tree, { minBytes: BOOT_MIN_BYTES, headroomBytes: Math.max(BOOT_MIN_HEADROOM, contentBytes / 4) });
  const fatType = chooseGeometry(bootBytes).type;

  const diskInput = { board, table: settings.table, loaderWrites: loader.writes, bootBytes, bootFat: fatType, seed: settings.seed };
  const root = planRoot(source, recipe, settings, fillRootBytes(recipe, diskInput, settings.table));
  ctx.log('info', `root filesystem: ${root.report.sizeBytes} bytes (needs ${root.report.neededBytes})`);
  const disk = planDisk({ ...diskInput, rootBytes: root.report.sizeBytes });
  const fat: FatPlan = planFat(tree, {
    sizeBytes: disk.boot.size,
    label: 'BOOT',
    volumeId: u32FromSeed(settings.seed, 'fat-volume-id'),
    type: fatType,
    hiddenSectors: disk.boot.start / SECTOR,
    mtime: settings.timestamp,
  });
  const placedLoader = planLoaderWrites(board, await layoutOf(disk), new Map([...loader.files].map(([name, bytes]) => [name, bytes.length])), loader.writes);
  return { loader, capture, root, fat, disk, placedLoader, warnings: input.warnings, customisedFiles: customised.files };
}

/**
 * The card a recipe would make, without writing it: the partition table as it will be written
 * (read back from its own bytes), what each partition holds, and where the loader goes. Reads the
 * rootfs's metadata (the first of a build's two passes) to size the root exactly.
 */
export async function previewBuild(recipe: PlanRecipe, ctx: JobContext, settings: BuildSettings): Promise<ResultOf<'planBuild'>> {
  const { disk, root, fat, placedLoader, customisedFiles } = await planImage(recipe, ctx, settings);
  const layout = await layoutOf(disk);
  const contents = [
    { filesystem: fat.geometry.type === 'fat32' ? 'vfat (FAT32)' : 'vfat (FAT16)', label: 'BOOT' },
    { filesystem: 'ext4', label: 'rootfs' },
  ];
  ctx.phase('build', 'done', message('phase.build.planned'));
  return {
    sizeBytes: disk.sizeBytes,
    table: disk.table,
    partitions: layout.partitions.map((partition, i) => ({ ...partition, ...contents[i] })),
    loaderWrites: placedLoader.map((write) => ({ file: write.file, offset: write.offset, length: write.length })),
    rootNeededBytes: root.report.neededBytes,
    ...(customisedFiles.length > 0 ? { customisedFiles: [...customisedFiles] } : {}),
  };
}

export async function buildImage(recipe: BuildRecipe, ctx: JobContext, settings: BuildSettings): Promise<ResultOf<'build'>> {
  const { loader, capture, root, fat, disk, placedLoader, warnings } = await planImage(recipe, ctx, settings);
  const fatMapped = fat.geometry.dataStartSector * SECTOR + fat.usedClusters * fat.geometry.sectorsPerCluster * SECTOR;
  const loaderBytes = placedLoader.reduce((sum, w) => sum + w.length, 0);
  const mappedEstimate = fatMapped + (root.report.sizeBytes - root.report.freeBytes) + loaderBytes + 2 * MIB;
  await checkOutput(recipe.output, mappedEstimate + (recipe.bmap ? 1 * MIB : 0));

  const partial = join(dirname(recipe.output), `.${basename(recipe.output)}.partial-${process.pid}`);
  const bmapPartial = recipe.bmap ? join(dirname(recipe.bmap), `.${basename(recipe.bmap)}.partial-${process.pid}`) : null;
  const sink = await FileSink.create(partial, disk.sizeBytes);
  let closed = false;
  try {
    const progress = ctx.progress('build', root.report.dataBytes + fat.fileBytes);
    await writeExt4(root, offsetSink(sink, disk.root.start), capture.stream, { signal: ctx.signal, onProgress: (bytes) => progress.update(bytes) });
    ctx.throwIfCancelled();
    const fatReport = await writeFat(fat, offsetSink(sink, disk.boot.start), (bytes) => progress.update(root.report.dataBytes + bytes));
    for (const write of disk.tableWrites) await sink.write(write.offset, write.bytes);
    for (const write of placedLoader) {
      const bytes = loader.files.get(write.file)!;
      await sink.write(write.offset, bytes.subarray(write.sourceOffset, write.sourceOffset + write.length));
    }
    progress.finish();
    const ranges = sink.mappedRanges();
    await sink.close();
    closed = true;
    if (recipe.bmap && bmapPartial) {
      const handle = await open(partial, 'r');
      try {
        await writeFile(bmapPartial, bmapXml(disk.sizeBytes, await hashRuns(handle, disk.sizeBytes, blockRuns(ranges, disk.sizeBytes))));
      } finally {
        await handle.close();
      }
    }
    ctx.throwIfCancelled();
    await rename(partial, recipe.output);
    if (recipe.bmap && bmapPartial) await rename(bmapPartial, recipe.bmap);
    ctx.phase('build', 'done', message('phase.build.wrote', { output: recipe.output }));
    return {
      output: recipe.output,
      ...(recipe.bmap ? { bmap: recipe.bmap } : {}),
      sizeBytes: disk.sizeBytes,
      dataBytes: root.report.dataBytes + fatReport.dataBytes,
      metadataBytes: root.report.metadataBytes + fatReport.metadataBytes + loaderBytes + disk.tableWrites.reduce((sum, w) => sum + w.bytes.length, 0),
      freeBytes: root.report.freeBytes + fatReport.freeBytes,
      ...(warnings.count > 0 ? { warnings: { count: warnings.count, messages: [...warnings.messages] } } : {}),
    };
  } catch (error) {
    if (!closed) await sink.close().catch(() => undefined);
    await rm(partial, { force: true });
    if (bmapPartial) await rm(bmapPartial, { force: true });
    throw error;
  }
}
