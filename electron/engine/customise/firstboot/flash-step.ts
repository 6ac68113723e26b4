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
import { openImageInput } from '../../flash/image-input';
import type { Patch } from '../../flash/patch';
import type { JobContext } from '../../job';
import { isHttpUrl } from '../../shared/pure';
import { findCatalogEntry } from '../../sources/source-operations';
import { CustomiseSchema, isEmpty, type Customise } from '../model';
import { checkArmbianSettings } from './armbian';
import { firstBootEdit, type FirstBootEdit } from './detect';

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

async function fileEdit(path: string, settings: Customise, plan: FirstBootPlan): Promise<FirstBootEdit> {
  const file = await fileReader(path);
  try {
    return await firstBootEdit(file.read, file.size, settings, plan);
  } finally {
    await file.close();
  }
}

const MAX_PASSES = 8;
const MAX_DECODED = 1024 * 1024 * 1024;
const WINDOW = 4 * 1024 * 1024;

/**
 * The edit computed from a local compressed image, which can only be read front to back: each
 * pass runs the edit over the ranges decoded so far and notes the first it lacked (several when a
 * lookup was tolerant), then one sequential decode fetches those (with some bytes after each) for
 * the next pass. Null when it would take too many passes or too much decoding.
 */
async function streamedEdit(path: string, settings: Customise, plan: FirstBootPlan, ctx: JobContext): Promise<FirstBootEdit | null> {
  const known: { start: number; bytes: Uint8Array }[] = [];
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const missing: { start: number; end: number }[] = [];
    const read: ReadAt = async (offset, length) => {
      const hit = known.find((k) => offset >= k.start && offset + length <= k.start + k.bytes.length);
      if (hit) return hit.bytes.subarray(offset - hit.start, offset - hit.start + length);
      missing.push({ start: offset, end: offset + Math.max(length, WINDOW) });
      throw new CardsmithError('internal', `byte ${offset} of the image is not decoded yet`);
    };
    try {
      const edit = await firstBootEdit(read, Number.MAX_SAFE_INTEGER, settings, plan);
      ctx.log('debug', `first-boot: ${known.reduce((sum, k) => sum + k.bytes.length, 0)} bytes of the image decoded ahead in ${pass + 1} passes`);
      return edit;
    } catch (error) {
      if (missing.length === 0) throw error;
    }
    if (Math.max(...missing.map((m) => m.end)) > MAX_DECODED) return null;
    const input = await openImageInput(path, ctx);
    try {
      let position = 0;
      for (const range of missing.sort((a, b) => a.start - b.start)) {
        const start = Math.max(range.start, position);
        if (start >= range.end) continue;
        position += await input.skip(start - position);
        const bytes = new Uint8Array(range.end - start);
        let filled = 0;
        for (let got = -1; got !== 0 && filled < bytes.length; filled += got) got = await input.read(bytes.subarray(filled));
        known.push({ start, bytes: bytes.subarray(0, filled) });
        position += filled;
      }
    } finally {
      await input.close();
    }
  }
  return null;
}

/** Checks the settings and, when the image is a local file, the edit itself; null: nothing to do. */
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
  if (plan.initFormat === 'armbian') checkArmbianSettings(settings);
  const isFile = await stat(image.path).then((info) => info.isFile(), () => false);
  if (!isFile) {
    ctx.log('info', 'first-boot files: the image is not a local file, so its boot partition is read on the card after writing');
    return plan;
  }
  const edit = image.compression === 'none' ? await fileEdit(image.path, settings, plan) : await streamedEdit(image.path, settings, plan, ctx);
  if (edit) ctx.log('info', `first-boot files checked against the image: ${edit.choice.kind} (${edit.choice.reason}): ${edit.files.join(', ')}`);
  else ctx.log('info', 'first-boot files: the boot partition lies too deep in the compressed image to check first; it is read on the card after writing');
  return plan;
}

/** The patches for the card as it will be; logs what is written (names only, never contents). */
export async function firstBootPatches(plan: FirstBootPlan, read: ReadAt, sizeBytes: number, ctx: JobContext): Promise<readonly Patch[]> {
  const edit = await firstBootEdit(read, sizeBytes, plan.settings, plan);
  if (edit.patches.length === 0) throw new CardsmithError('internal', 'The first-boot edit produced no changes', {});
  ctx.log('info', `first-boot: ${edit.choice.kind} (${edit.choice.reason}); wrote ${edit.files.join(', ')} in ${edit.patches.length} patches`);
  return edit.patches;
}
