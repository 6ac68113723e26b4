/**
 * The job host as the app ships it (electron/main/job-host-entry.ts bundled like scripts/build.mjs
 * does), forked under plain Node with an IPC channel in place of Electron's utilityProcess.fork.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { HostProcess } from '../../../electron/main/job-host-client';
import { root } from './worker-bin';

export async function buildJobHost(name: string): Promise<string> {
  const outfile = join(root, 'test-artifacts', 'main', name, 'job-host.cjs');
  await build({ entryPoints: [join(root, 'electron', 'main', 'job-host-entry.ts')], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['drivelist'], logLevel: 'warning' });
  return outfile;
}

/** A Node child adapted to the UtilityProcess shape JobHostClient takes. */
export function forkHost(bundle: string, env: NodeJS.ProcessEnv = process.env): { host: HostProcess; child: ChildProcess } {
  const child = fork(bundle, [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // A send after the child died is reported here; the client learns of the death from 'exit'.
  child.on('error', () => undefined);
  const host: HostProcess = {
    postMessage: (message) => void child.send(message as object),
    on: (event: string, listener: (value: never) => void) => child.on(event, listener as (...args: unknown[]) => void),
    kill: () => child.kill(),
  };
  return { host, child };
}
