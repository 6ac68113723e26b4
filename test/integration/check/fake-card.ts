/**
 * Fake and failing cards for tests: compiles fuse-fake.c once and offers a loop device over its
 * /card, unmounting and detaching it whatever the body does.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachLoop, detachLoop } from '../../helpers/loop';

export const FAKE_CARD_NEEDS = ['root', 'tool:losetup', 'tool:cc', 'tool:pkg-config', 'tool:fusermount3', 'file:/dev/fuse'] as const;

export type FakeMode = 'wrap' | 'lost' | 'corrupt';

let binary: string | null = null;

function build(): string {
  if (binary) return binary;
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-fuse-fake-'));
  const out = join(dir, 'fuse-fake');
  const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'fuse3'], { encoding: 'utf8' }).trim().split(/\s+/);
  execFileSync('cc', ['-O2', '-o', out, join(__dirname, 'fuse-fake.c'), ...flags]);
  binary = out;
  return out;
}

/** `n` is the real size (wrap, lost) or the first wrong byte (corrupt). */
export async function withFakeCard<T>(mode: FakeMode, claimedBytes: number, n: number, body: (device: string) => Promise<T>): Promise<T> {
  const mount = mkdtempSync(join(tmpdir(), `cardsmith-fake-${mode}-`));
  mkdirSync(mount, { recursive: true });
  const fuse = spawn(build(), [mount, mode, `${claimedBytes}`, `${n}`], { stdio: 'ignore' });
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
  }
}
