/**
 * First-boot settings in a plain-image flash. Before anything is written the settings are checked
 * and, for an uncompressed local image, the whole edit is computed against the image itself, so a
 * boot FAT without room or an OS Cardsmith cannot tell is refused with the card untouched. The
 * real edit is computed from the card as it will be (after the image body, before its first MiB)
 * and goes out as patches, which the verify then covers like the rest of the card.
 */
import { open, stat } from 'node:fs/promises';
import type { ReadAt } from '../../disk/read-layout';
import { CardsmithError } from '../../errors';
import type { Patch } from '../../flash/patch';
import type { JobContext } from '../../job';
import { isHttpUrl } from '../../sources/http';
import { findCatalogEntry } from '../../sources/source-operations';
import { CustomiseSchema, isEmpty, type Customise } from '../model';
import { firstBootEdit } from './detect';

export interface FirstBootPlan {
  readonly settings: Customise;
  readonly initFormat: string | undefined;
  readonly instanceId: string;
  readonly mtime: number;
}

/** The catalog's init_format: the request's, else the entry's when the source is a catalog id. */
async function initFormatOf(source: string, given: string | undefined, ctx: JobContext): Promise<string | undefined> {
  if (given !== undefined || isHttpUrl(source)) return given;
  if (await stat(source).then(() => true, () => false)) return undefined;
  return (await findCatalogEntry(source, ctx))?.initFormat;
}

async function fileReader(path: string): Promise<{ read: ReadAt; size: number; close: () => Promise<void> }> {
  const handle = await open(path, 'r');
  const size = (await handle.stat()).size;
  const read: ReadAt = async (offset, length) => {
    const out = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
    if (out.length > 0) await handle.read(out, 0, out.length, offset);
    return out;
  };
  return { read, size, close: () => handle.close() };
}

/** Checks the settings and, when the image can be read at random, the edit itself; null: nothing to do. */
export async function prepareFirstBoot(
  request: { customise?: Customise | undefined; initFormat?: string | undefined },
  source: string,
  image: { path: string; compression: string },
  ctx: JobContext,
): Promise<FirstBootPlan | null> {
  if (!request.customise || isEmpty(request.customise)) return null;
  const settings = CustomiseSchema.parse(request.customise);
  const plan: FirstBootPlan = {
    settings,
    initFormat: await initFormatOf(source, request.initFormat, ctx),
    instanceId: `cardsmith-${Date.now().toString(36)}-${Math.floor(Math.random() * 0x10000).toString(16)}`,
    mtime: Math.floor(Date.now() / 1000),
  };
  const local = image.compression === 'none' && (await stat(image.path).then((s) => s.isFile(), () => false));
  if (!local) {
    ctx.log('info', 'first-boot files: the image is compressed or remote, so the boot partition is read on the card after writing');
    return plan;
  }
  const file = await fileReader(image.path);
  try {
    const edit = await firstBootEdit(file.read, file.size, settings, plan);
    ctx.log('info', `first-boot files checked against the image: ${edit.choice.kind} (${edit.choice.reason}): ${edit.files.join(', ')}`);
  } finally {
    await file.close();
  }
  return plan;
}

/** The patches for the card as it will be; logs what is written (names only, never contents). */
export async function firstBootPatches(plan: FirstBootPlan, read: ReadAt, sizeBytes: number, ctx: JobContext): Promise<readonly Patch[]> {
  const edit = await firstBootEdit(read, sizeBytes, plan.settings, plan);
  if (edit.patches.length === 0) throw new CardsmithError('internal', 'The first-boot edit produced no changes', {});
  ctx.log('info', `first-boot: ${edit.choice.kind} (${edit.choice.reason}); wrote ${edit.files.join(', ')} in ${edit.patches.length} patches`);
  return edit.patches;
}
