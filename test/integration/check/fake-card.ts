/**
 * Fake and failing cards for tests: fuse-fake.c (compiled once per version) behind a loop device,
 * unmounted and detached whatever the body does.
 */
import { join } from 'node:path';
import { compileFuse, withFuseLoop } from '../../helpers/fuse-card';

export type FakeMode = 'wrap' | 'lost' | 'corrupt';

/** `n` is the real size (wrap, lost) or the first wrong byte (corrupt). */
export function withFakeCard<T>(mode: FakeMode, claimedBytes: number, n: number, body: (device: string) => Promise<T>): Promise<T> {
  return withFuseLoop(compileFuse(join(__dirname, 'fuse-fake.c')), (mount) => [mount, mode, `${claimedBytes}`, `${n}`], body);
}
