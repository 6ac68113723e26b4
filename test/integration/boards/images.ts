/** Blank MBR test images and in-process engine calls shared by the boards integration tests. */
import { closeSync, openSync, writeSync, ftruncateSync } from 'node:fs';
import type { JobEvent, ResultOf } from '../../../electron/engine/api';
import { buildMbr } from '../../../electron/engine/disk/mbr';
import type { ErrorInfo } from '../../../electron/engine/errors';
import { runRequest } from '../../../electron/engine/operations';

export const MiB = 1024 * 1024;
export const DISK_SIGNATURE = 0xc0ffee01;

/** A sparse image of `size` bytes with an MBR (signature DISK_SIGNATURE) and one Linux partition from `firstStart` to the end. */
export function blankMbrImage(path: string, size: number, firstStart: number): void {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, size);
    const entries = firstStart > 0 ? [{ bootable: false, type: 0x83, startLba: firstStart / 512, sectors: (size - firstStart) / 512 }] : [];
    writeSync(fd, buildMbr(DISK_SIGNATURE, entries), 0, 512, 0);
  } finally {
    closeSync(fd);
  }
}

export type Outcome<T> = { ok: true; result: T; events: JobEvent[] } | { ok: false; error: ErrorInfo; events: JobEvent[] };

export async function install(board: string, target: string, from?: string, allowLoop = false): Promise<Outcome<ResultOf<'installLoader'>>> {
  const events: JobEvent[] = [];
  const result = await runRequest<'installLoader'>({ op: 'installLoader', board, target, from, allowLoop }, (event) => events.push(event));
  if (result) return { ok: true, result, events };
  const error = events.find((event) => event.type === 'error');
  if (error?.type !== 'error') throw new Error('no result and no error');
  return { ok: false, error: error.error, events };
}
