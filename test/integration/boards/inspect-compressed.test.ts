/**
 * `inspect` of compressed images (xz, zip, zst without a recorded size): sfdisk-made images with
 * real filesystems and a real Debian loader are inspected raw (random access, the oracle) and
 * compressed (only the decoded start is read); table, partitions, filesystems, loaders and boards
 * must agree, `image` must describe the source, and what a stream cannot show must be said.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JobEvent, ResultOf } from '../../../electron/engine/api';
import type { Inspection } from '../../../electron/engine/disk/model';
import { runRequest } from '../../../electron/engine/operations';
import { fixturePath } from '../../helpers/fixtures';
import { describeWith } from '../../helpers/needs';
import { startTestServer } from '../sources/test-server';
import { install, MiB } from './images';

const work = mkdtempSync(join(tmpdir(), 'cardsmith-inspect-packed-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function inspect(target: string): Promise<ResultOf<'inspect'>> {
  const events: JobEvent[] = [];
  const result = await runRequest<'inspect'>({ op: 'inspect', target }, (event) => events.push(event));
  if (!result) throw new Error(JSON.stringify(events.find((event) => event.type === 'error')));
  return result;
}

/** Everything a raw and a streamed inspection of the same image must agree on. */
const comparable = (inspection: Inspection): Omit<Inspection, 'target' | 'notes'> => ({
  sizeBytes: inspection.sizeBytes,
  table: inspection.table,
  ...(inspection.diskId ? { diskId: inspection.diskId } : {}),
  partitions: inspection.partitions,
  loaders: inspection.loaders,
  consistentBoards: inspection.consistentBoards,
});

/** A sparse image partitioned by sfdisk, with a FAT or ext4 filesystem made at each partition's offset. */
function partitionedImage(path: string, sizeMiB: number, label: 'dos' | 'gpt', parts: readonly { startMiB: number; sizeMiB?: number; fs: 'vfat' | 'ext4' }[]): void {
  writeFileSync(path, '');
  truncateSync(path, sizeMiB * MiB);
  const lines = parts.map((p) => `start=${p.startMiB * 2048}${p.sizeMiB ? `, size=${p.sizeMiB * 2048}` : ''}, type=${label === 'dos' ? (p.fs === 'vfat' ? 'c' : '83') : 'L'}`);
  execFileSync('sfdisk', ['--no-reread', '--no-tell-kernel', '-q', path], { input: `label: ${label}\n${lines.join('\n')}\n` });
  parts.forEach((p, index) => {
    const end = parts[index + 1]?.startMiB ?? sizeMiB - (label === 'gpt' ? 1 : 0);
    const kib = (p.sizeMiB ?? end - p.startMiB) * 1024;
    if (p.fs === 'vfat') execFileSync('mkfs.vfat', ['--offset', String(p.startMiB * 2048), '-n', 'BOOT', path, String(kib)], { stdio: 'ignore' });
    else execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'root', '-E', `offset=${p.startMiB * MiB}`, path, `${kib}k`], { stdio: 'ignore' });
  });
}

const needs = ['tool:sfdisk', 'tool:mkfs.vfat', 'tool:mkfs.ext4', 'tool:xz', 'tool:zip', 'tool:zstd', `file:${fixturePath('u-boot-sunxi_armhf', '.complete')}`, `file:${fixturePath('u-boot-rockchip_arm64', '.complete')}`] as const;

describeWith([...needs], 'inspect reads the table and loaders of a compressed image from its decoded start', () => {
  const mbr = join(work, 'pcduino3.img');
  const gpt = join(work, 'rock64.img');
  let mbrRaw: Inspection;
  let gptRaw: Inspection;

  beforeAll(async () => {
    // FAT at 1 MiB inside the 16 MiB head, ext4 at 20 MiB beyond it (read by skipping ahead).
    partitionedImage(mbr, 48, 'dos', [{ startMiB: 1, sizeMiB: 16, fs: 'vfat' }, { startMiB: 20, fs: 'ext4' }]);
    const sunxi = await install('pcduino3', mbr, fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot/Linksprite_pcDuino3'));
    expect(sunxi.ok ? 'ok' : sunxi.error.message).toBe('ok');
    execFileSync('xz', ['-0', '-T1', '-k', '-f', mbr]);
    execFileSync('zip', ['-q', '-j', `${mbr}.zip`, mbr]);
    mbrRaw = (await inspect(mbr)).inspection;

    partitionedImage(gpt, 40, 'gpt', [{ startMiB: 16, fs: 'ext4' }]);
    const rockchip = await install('rock64', gpt, fixturePath('u-boot-rockchip_arm64', 'usr/lib/u-boot/rock64-rk3328'));
    expect(rockchip.ok ? 'ok' : rockchip.error.message).toBe('ok');
    execFileSync('xz', ['-0', '-T1', '-k', '-f', gpt]);
    gptRaw = (await inspect(gpt)).inspection;
  });

  it('the raw images are what the test means (the oracle side)', () => {
    expect(mbrRaw.table).toBe('mbr');
    expect(mbrRaw.partitions.map((p) => [p.start, p.filesystem, p.label])).toEqual([[1 * MiB, 'vfat', 'BOOT'], [20 * MiB, 'ext4', 'root']]);
    expect(mbrRaw.loaders.filter((l) => l.valid).map((l) => l.kind)).toContain('allwinner-egon');
    expect(mbrRaw.consistentBoards).toContain('pcduino3');
    expect(gptRaw.table).toBe('gpt');
    expect(gptRaw.partitions.map((p) => [p.start, p.filesystem])).toEqual([[16 * MiB, 'ext4']]);
    expect(gptRaw.consistentBoards).toContain('rock64');
  });

  it('xz: same table, filesystems, loaders and boards as the raw image; image info from the xz index', async () => {
    const { inspection, image } = await inspect(`${mbr}.xz`);
    expect(comparable(inspection)).toEqual(comparable(mbrRaw));
    expect(image).toMatchObject({ compression: 'xz', sizeBytes: 48 * MiB, sizeIsEstimate: false, hasBmap: false });
    expect(inspection.notes?.some((note) => note.startsWith('Only the first'))).toBe(true);
    expect(inspection.notes?.some((note) => note.includes('backup GPT'))).toBe(false);
  });

  it('zip: same as the raw image; size from the entry header', async () => {
    const { inspection, image } = await inspect(`${mbr}.zip`);
    expect(comparable(inspection)).toEqual(comparable(mbrRaw));
    expect(image).toMatchObject({ compression: 'zip', sizeBytes: 48 * MiB, sizeIsEstimate: false });
  });

  it('GPT in an xz: table and loaders agree, and the unchecked backup GPT is said', async () => {
    const { inspection, image } = await inspect(`${gpt}.xz`);
    expect(comparable(inspection)).toEqual(comparable(gptRaw));
    expect(image?.compression).toBe('xz');
    expect(inspection.notes).toContain('The backup GPT in the last sectors of the image was not checked: that needs decompressing the whole image.');
  });

  it('an xz at an http URL: the same, read while it downloads', async () => {
    const server = await startTestServer();
    const cache = process.env.CARDSMITH_CACHE;
    process.env.CARDSMITH_CACHE = join(work, 'cache');
    try {
      const url = server.add('/pcduino3.img.xz', readFileSync(`${mbr}.xz`));
      const { inspection, image } = await inspect(url);
      expect(comparable(inspection)).toEqual(comparable(mbrRaw));
      expect(inspection.target).toBe(url);
      expect(image).toMatchObject({ path: url, compression: 'xz', hasBmap: false });
    } finally {
      if (cache === undefined) delete process.env.CARDSMITH_CACHE;
      else process.env.CARDSMITH_CACHE = cache;
      await server.close();
    }
  });

  it('zst without a recorded size: partitions past the window are named, the size is the last partition end', async () => {
    const far = join(work, 'far.img');
    partitionedImage(far, 300, 'dos', [{ startMiB: 1, sizeMiB: 16, fs: 'vfat' }, { startMiB: 280, fs: 'ext4' }]);
    execFileSync('zstd', ['-q', '-1', '--no-content-size', '-f', far]);
    const raw = (await inspect(far)).inspection;
    const { inspection, image } = await inspect(`${far}.zst`);
    expect(image).toMatchObject({ compression: 'zst', sizeBytes: null });
    expect(inspection.sizeBytes).toBe(300 * MiB);
    expect(inspection.partitions.map((p) => [p.start, p.filesystem])).toEqual([[1 * MiB, 'vfat'], [280 * MiB, undefined]]);
    expect(raw.partitions[1]?.filesystem).toBe('ext4');
    expect(inspection.notes).toContain(`Partition 2 starts at byte ${280 * MiB}; its first sectors were not decoded (filesystems are read only within the first ${256 * MiB} bytes), so its filesystem was not identified.`);
    expect(inspection.notes?.some((note) => note.includes('not recorded in the zst file'))).toBe(true);
  });
});
