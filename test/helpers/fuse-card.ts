/**
 * A card that behaves like one: a loop device over the FUSE file of
 * test/integration/flash/fuse-card.c, optionally throttled to a card's write and read rates, with
 * a per-request latency, failing writes in a byte range, or forgetting what is written. Used by
 * the flash integration tests and scripts/bench-flash.ts. Needs root, cc, pkg-config (fuse3),
 * fusermount3 and /dev/fuse (FUSE_CARD_NEEDS).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachLoop, detachLoop } from './loop';
import type { Need } from './needs';

export const FUSE_CARD_NEEDS: readonly Need[] = ['root', 'tool:losetup', 'tool:cc', 'tool:pkg-config', 'tool:fusermount3', 'file:/dev/fuse'];

export interface FuseCardOptions {
  readonly sizeBytes: number;
  /** Keep the card's bytes (in a RAM-backed file); false: reads are zeros, writes are forgotten. */
  readonly keepsData?: boolean;
  /** Writes touching [start, end) fail with EIO. */
  readonly bad?: { readonly start: number; readonly end: number };
  readonly writeBytesPerSecond?: number;
  readonly readBytesPerSecond?: number;
  readonly latencyMicroseconds?: number;
}

/** Compiles a FUSE program once per version of its source (the binary is named by the source's hash). */
export function compileFuse(source: string): string {
  const out = join(tmpdir(), `cardsmith-fuse-${createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12)}`);
  if (existsSync(out)) return out;
  const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'fuse3'], { encoding: 'utf8' }).trim().split(/\s+/);
  // Built under a temporary name and renamed, so a concurrent test never runs a half-written binary.
  execFileSync('cc', ['-O2', '-o', `${out}.${process.pid}`, source, ...flags]);
  renameSync(`${out}.${process.pid}`, out);
  return out;
}

function args(options: FuseCardOptions, backing: string): string[] {
  const out: string[] = [];
  if (options.keepsData) out.push('--backing', backing);
  if (options.bad) out.push('--bad', String(options.bad.start), String(options.bad.end));
  if (options.writeBytesPerSecond) out.push('--write-rate', String(options.writeBytesPerSecond));
  if (options.readBytesPerSecond) out.push('--read-rate', String(options.readBytesPerSecond));
  if (options.latencyMicroseconds) out.push('--latency-us', String(options.latencyMicroseconds));
  return out;
}

/**
 * Runs a FUSE program that serves `<mount>/card`, attaches a loop device over that file, runs
 * `body(device)`, and always detaches, unmounts and stops it. `args` gets the mount point and a
 * private RAM-backed folder for the program's own files.
 */
export async function withFuseLoop<T>(program: string, args: (mount: string, dir: string) => readonly string[], body: (device: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync('/dev/shm/cardsmith-fuse-');
  const mount = join(dir, 'mnt');
  mkdirSync(mount);
  const fuse = spawn(program, args(mount, dir), { stdio: 'ignore' });
  try {
    for (let i = 0; i < 50 && !existsSync(join(mount, 'card')); i++) await new Promise((r) => setTimeout(r, 100));
    const device = attachLoop(join(mount, 'card'));
    try {
      return await body(device);
    } finally {
      detachLoop(device);
    }
  } finally {
    spawnSync('fusermount3', ['-u', mount]);
    fuse.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Mounts a FUSE card, attaches a loop device over it, runs `body(device)`, and always tears both down. */
export function withFuseCard<T>(options: FuseCardOptions, body: (device: string) => Promise<T> | T): Promise<T> {
  const program = compileFuse(join(__dirname, '..', 'integration', 'flash', 'fuse-card.c'));
  return withFuseLoop(program, (mount, dir) => [mount, String(options.sizeBytes), ...args(options, join(dir, 'backing'))], body);
}
