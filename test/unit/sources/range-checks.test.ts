/**
 * The image input checks each block map range's checksum as its bytes pass, whether the caller
 * reads them or skips over them (skipped mapped bytes are read and hashed, not jumped over).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CardsmithError } from '../../../electron/engine/errors';
import { openImageInput } from '../../../electron/engine/flash/image-input';
import { createJobContext } from '../../../electron/engine/job';
import { describeWith } from '../../helpers/needs';

const KiB = 1024;
const ctx = createJobContext(() => undefined, new AbortController().signal);

describeWith(['tool:bmaptool'], 'block map range checks in the image input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-ranges-'));
  const good = join(dir, 'good.img');
  const bad = join(dir, 'bad.img');

  beforeAll(() => {
    // Mapped: 0..64 KiB and 512..640 KiB of a 1 MiB image; the rest is a hole.
    for (const path of [good, bad]) {
      const fd = openSync(path, 'w');
      writeSync(fd, Buffer.alloc(64 * KiB, 0x11), 0, 64 * KiB, 0);
      writeSync(fd, Buffer.alloc(128 * KiB, 0x22), 0, 128 * KiB, 512 * KiB);
      closeSync(fd);
      execFileSync('truncate', ['-s', `${1024 * KiB}`, path]);
      execFileSync('bmaptool', ['create', '-o', `${path}.bmap`, path], { stdio: 'ignore' });
    }
    const fd = openSync(bad, 'r+');
    writeSync(fd, Buffer.from([0x23]), 0, 1, 600 * KiB);
    closeSync(fd);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('skips a whole intact image, mapped ranges included, without an error', async () => {
    const input = await openImageInput(good, ctx);
    try {
      expect(input.bmap?.ranges).toHaveLength(2);
      expect(await input.skip(1024 * KiB)).toBe(1024 * KiB);
      await input.finish(1024 * KiB);
    } finally {
      await input.close();
    }
  });

  it('finds a changed byte in a range the caller skips over', async () => {
    const input = await openImageInput(bad, ctx);
    try {
      await expect(input.skip(1024 * KiB)).rejects.toSatisfy(
        (error: CardsmithError) => error.info.cause === 'source-corrupt' && error.info.details?.range === 2 && error.info.details.start === 512 * KiB,
      );
    } finally {
      await input.close();
    }
  });

  it('finds it when the range is read in pieces that straddle its ends', async () => {
    const input = await openImageInput(bad, ctx);
    try {
      const piece = new Uint8Array(100 * KiB);
      await expect(
        (async () => {
          while ((await input.read(piece)) > 0);
        })(),
      ).rejects.toThrow(/block map range 2 \(bytes 524288\.\.655359\) has checksum [0-9a-f]{64}, the bmap says [0-9a-f]{64}/);
    } finally {
      await input.close();
    }
  });
});
