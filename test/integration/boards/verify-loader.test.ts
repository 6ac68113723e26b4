/**
 * `verify --board` on a loop device holding a real Debian U-Boot: bytes changed inside the U-Boot
 * payload are reported as their exact byte range when the loader files are at hand (the request's
 * loader source, or the image's own loader), and by the damaged payload's checksum (the board's
 * loader slot) when only the headers can be judged; `inspect` names the failed check.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JobEvent, RequestInput, ResultOf } from '../../../electron/engine/api';
import { inspectTarget } from '../../../electron/engine/boards/inspect';
import type { ErrorInfo } from '../../../electron/engine/errors';
import { runRequest } from '../../../electron/engine/operations';
import { fixturePath } from '../../helpers/fixtures';
import { readBytesAt } from '../../helpers/bytes';
import { withLoopDevice } from '../../helpers/loop';
import { describeWith } from '../../helpers/needs';
import { blankMbrImage, install, MiB } from './images';

const root = join(__dirname, '..', '..', '..');
const work = mkdtempSync(join(tmpdir(), 'cardsmith-verify-loader-'));
beforeAll(() => {
  process.env.CARDSMITH_LOG_DIR = join(work, 'logs');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const PCDUINO3 = fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot/Linksprite_pcDuino3');
const WANDBOARD = fixturePath('u-boot-imx_armhf', 'usr/lib/u-boot/wandboard');

async function run<T>(request: RequestInput): Promise<{ result: T | undefined; error: ErrorInfo | undefined }> {
  const events: JobEvent[] = [];
  const result = (await runRequest(request, (event) => events.push(event))) as T | undefined;
  const failure = events.find((e): e is Extract<JobEvent, { type: 'error' }> => e.type === 'error');
  return { result, error: failure?.error };
}

/** An 8 MiB MBR image: nothing in the loader area, pseudo-random bytes in its partition from 1 MiB. */
function image(path: string): string {
  blankMbrImage(path, 8 * MiB, 1 * MiB);
  const data = Buffer.alloc(7 * MiB);
  for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(Math.imul(i + 1, 2654435761) >>> 0, i);
  const fd = openSync(path, 'r+');
  writeSync(fd, data, 0, data.length, 1 * MiB);
  closeSync(fd);
  return path;
}

/** Inverts `length` bytes of the card at `offset`, past the page cache. */
function flip(device: string, offset: number, length: number): void {
  const bytes = readBytesAt(device, offset, length).map((b) => b ^ 0xff);
  const fd = openSync(device, 'r+');
  writeSync(fd, bytes, 0, length, offset);
  closeSync(fd);
  execFileSync('blockdev', ['--flushbufs', device]);
}

type Verified = ResultOf<'verify'>;

describeWith(['root', 'tool:losetup', 'tool:blockdev', `file:${PCDUINO3}/u-boot-sunxi-with-spl.bin`, `file:${WANDBOARD}/u-boot.img`], 'verify --board against the loader', () => {
  it('pcduino3: a changed uImage payload is its exact range with the loader files, the loader slot by its data CRC without', async () => {
    const source = image(join(work, 'pcduino3.img'));
    await withLoopDevice({ sizeBytes: 16 * MiB }, async (loop) => {
      const flashed = await run({ op: 'flash', source, device: loop.device, board: 'pcduino3', loaderFrom: PCDUINO3, allowLoop: true });
      expect(flashed.error).toBeUndefined();
      const verify = (loaderFrom?: string) => run<Verified>({ op: 'verify', source, device: loop.device, board: 'pcduino3', loaderFrom, allowLoop: true });
      expect((await verify(PCDUINO3)).result).toMatchObject({ ok: true, mismatches: [] });
      expect((await verify()).result).toMatchObject({ ok: true, mismatches: [] });

      // u-boot-sunxi-with-spl.bin at 8 KiB: the uImage at +32 KiB, its data after the 64-byte header.
      const at = 8192 + 32768 + 64 + 100_000;
      flip(loop.device, at, 4);
      expect((await verify(PCDUINO3)).result).toMatchObject({ ok: false, mismatches: [{ start: at, end: at + 4 }] });
      // No loader files at hand (no /usr/lib/u-boot here, none in the image): the slot, failed by the data CRC.
      expect((await verify()).result).toMatchObject({ ok: false, mismatches: [{ start: 8192, end: 8192 + 1040384 }] });
      const uimage = (await inspectTarget(loop.device)).loaders.find((l) => l.kind === 'uboot-uimage');
      expect(uimage).toMatchObject({ offset: 40960, valid: false, detail: expect.stringMatching(/header CRC ok, data CRC MISMATCH over \+64\.\.\+\d+/) });

      execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), 'cli'], { cwd: root, stdio: 'ignore' });
      const cli = spawnSync(process.execPath, [join(root, 'bin/cardsmith.cjs'), 'verify', '--device', loop.device, source, '--board', 'pcduino3', '--loader-from', PCDUINO3, '--allow-loop'], { encoding: 'utf8' });
      expect(cli.stdout).toBe(`${loop.device}: MISMATCH bytes ${at}..${at + 3} (4 bytes)\n`);
      expect(cli.status).not.toBe(0);
    });
  });

  it('wandboard: a changed FIT payload fails its crc32 hash; an image carrying the loader is held to its own bytes', async () => {
    const source = image(join(work, 'wandboard.img'));
    expect((await install('wandboard', source, WANDBOARD)).ok).toBe(true);
    await withLoopDevice({ sizeBytes: 16 * MiB }, async (loop) => {
      expect((await run({ op: 'flash', source, device: loop.device, allowLoop: true })).error).toBeUndefined();
      const verify = (loaderFrom?: string) => run<Verified>({ op: 'verify', source, device: loop.device, board: 'wandboard', loaderFrom, allowLoop: true });
      expect((await verify()).result).toMatchObject({ ok: true, mismatches: [] });

      // u-boot.img at 69 KiB: firmware-1's data starts right after the 1640-byte tree.
      const at = 70656 + 1640 + 5000;
      flip(loop.device, at, 2);
      expect((await verify()).result).toMatchObject({ ok: false, mismatches: [{ start: at, end: at + 2 }] });
      expect((await verify(WANDBOARD)).result).toMatchObject({ ok: false, mismatches: [{ start: at, end: at + 2 }] });
      const fit = (await inspectTarget(loop.device)).loaders.find((l) => l.kind === 'uboot-fit');
      expect(fit).toMatchObject({ offset: 70656, valid: false, detail: expect.stringMatching(/image firmware-1 hash-1 crc32 MISMATCH/) });
    });
  });
});
