/**
 * Runs an engine request the way the CLI does (runRequest) and collects its events, for the
 * source-check tests that flash loop devices; plus the byte helpers those tests share.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { JobEvent, RequestInput } from '../../../electron/engine/api';
import type { ErrorInfo } from '../../../electron/engine/errors';
import { runRequest } from '../../../electron/engine/operations';

export const MiB = 1 << 20;

export interface JobRun {
  readonly result: unknown;
  readonly error: ErrorInfo | undefined;
  readonly events: JobEvent[];
}

export async function runJob(request: RequestInput): Promise<JobRun> {
  const events: JobEvent[] = [];
  const result = await runRequest(request, (event) => events.push(event), new AbortController().signal);
  const failure = events.find((e): e is Extract<JobEvent, { type: 'error' }> => e.type === 'error');
  return { result, error: failure?.error, events };
}

/** Overwrites the first `bytes` of a device or file with `byte`. */
export function fillStart(device: string, byte: number, bytes: number): void {
  const fd = openSync(device, 'r+');
  try {
    writeSync(fd, Buffer.alloc(bytes, byte), 0, bytes, 0);
  } finally {
    closeSync(fd);
  }
}

/** Text-like bytes that deflate well (so a zip stores them deflated) and differ everywhere. */
export function compressibleBytes(bytes: number, seed = 1): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const line = `line ${i} of seed ${seed}: ${(i * 7919 + seed) % 1_000_003}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}
