import { decoderTool } from './decompress';
import type { Compression } from './model';
import { rawFileReader, type PullReader } from './pull-reader';
import { toolFileReader } from './tool-reader';
import { zstdFileReader } from './zstd-reader';

/**
 * The fastest reader for a local file, or null when it must go through the stream: a raw image by
 * positional reads (holes skipped without reading), a .zst decoded straight into the caller's
 * buffers, an .xz from `xz -dc -T0` through a FIFO. The caller has no hash to check on the way.
 */
export async function directFileReader(path: string, compression: Compression): Promise<(PullReader & { readonly sizeBytes?: number }) | null> {
  if (compression === 'none') return rawFileReader(path);
  if (compression === 'zst') return zstdFileReader(path);
  const tool = compression === 'xz' ? decoderTool('xz', {}) : null;
  return tool ? toolFileReader('xz', tool.tool, tool.args, path) : null;
}
