/**
 * Builds the CLI bundle (the privileged worker's entry) into a private folder beside a copy of
 * bin/cardsmith.cjs, so these tests never race other test files rebuilding dist/cli.cjs.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { directPlan } from '../../../electron/main/worker-launcher';
import type { WorkerEntry } from '../../../electron/main/elevation';
import type { ElevationPlan } from '../../../electron/main/elevation';

export const root = join(__dirname, '..', '..', '..');

export async function buildWorkerBin(name: string): Promise<string> {
  const dir = join(root, 'test-artifacts', 'main', name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync(join(root, 'bin', 'cardsmith.cjs'), join(dir, 'bin', 'cardsmith.cjs'));
  await build({
    entryPoints: [join(root, 'electron', 'cli.ts')],
    outfile: join(dir, 'dist', 'cli.cjs'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['drivelist'],
    logLevel: 'warning',
  });
  return join(dir, 'bin', 'cardsmith.cjs');
}

/** `node <bin> worker`, unelevated. */
export function workerEntryFor(bin: string): WorkerEntry {
  return { executable: process.execPath, args: [bin, 'worker'], env: {} };
}

export function unelevatedPlan(bin: string): ElevationPlan {
  return directPlan(workerEntryFor(bin));
}
