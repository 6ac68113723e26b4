/**
 * "Build and flash in one step": a recipe flashed to a card is first built into a temporary
 * sparse image (with its bmap) in the cache folder — for root size `fill`, at the card's size, so
 * the ext4 is created at card size and needs no first-boot resize — then flashed like any image
 * with a bmap (only mapped ranges written). The builder checks free space against the mapped
 * bytes (the file is sparse). The temporary files are removed however the job ends. A rootfs
 * named by URL or catalog id is downloaded into the cache first (the builder reads it twice).
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FlashBuild } from '../api';
import { isHttpUrl } from '../shared/pure';
import { buildImage, settingsFromEnv } from '../compose/compose';
import type { JobContext } from '../job';
import { defaultCacheRoot } from '../sources/cache';

export interface BuiltImage {
  readonly path: string;
  readonly bmap: string;
  remove(): Promise<void>;
}

export async function buildForCard(build: FlashBuild, cardBytes: number, ctx: JobContext): Promise<BuiltImage> {
  const dir = join(defaultCacheRoot(), 'builds');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `card-${process.pid}-${Date.now()}.img`);
  const bmap = `${path}.bmap`;
  const remove = async (): Promise<void> => {
    await rm(path, { force: true });
    await rm(bmap, { force: true });
  };
  try {
    const recipe = { ...build, rootfs: await localRootfs(build.rootfs, ctx), output: path, bmap, cardSizeBytes: cardBytes };
    const result = await buildImage(recipe, ctx, settingsFromEnv(process.env, recipe));
    ctx.log('info', `built ${result.sizeBytes}-byte image for the card: data ${result.dataBytes}, metadata ${result.metadataBytes}, free ${result.freeBytes}`);
  } catch (error) {
    await remove();
    throw error;
  }
  return { path, bmap, remove };
}

/** A local rootfs as given; a URL, or a name that is no path (a catalog id), fetched into the cache. */
async function localRootfs(rootfs: string, ctx: JobContext): Promise<string> {
  const remote = isHttpUrl(rootfs) || (!/[\\/]/.test(rootfs) && !(await stat(rootfs).catch(() => null)));
  if (!remote) return rootfs;
  const { runFetch } = await import('../sources/source-operations');
  return (await runFetch({ op: 'fetch', source: rootfs }, ctx)).path;
}
