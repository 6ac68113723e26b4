import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { editFat, type FatAddition } from '../../../electron/engine/fs/fat/edit';
import { FatVolume } from '../../../electron/engine/fs/fat/volume';
import { CardsmithError } from '../../../electron/engine/errors';
import { seededBytes, fileReadAt } from '../../helpers/bytes';
import { describeWith } from '../../helpers/needs';

const dir = mkdtempSync(join(tmpdir(), 'cardsmith-fatedit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T = Date.UTC(2026, 11, 7, 1, 0, 0) / 1000;
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A volume made by mkfs.fat at byte `offset` of the file, holding files put there by mcopy. */
function makeVolume(name: string, fatBits: 12 | 16 | 32, kib: number, extra: string[] = [], offset = 0): string {
  const image = join(dir, name);
  const volume = join(dir, `${name}.vol`);
  rmSync(volume, { force: true });
  execFileSync('mkfs.fat', ['-F', String(fatBits), '-s', '1', ...extra, '-C', volume, String(kib)]);
  const put = (path: string, data: Uint8Array): void => {
    const src = join(dir, 'src');
    writeFileSync(src, data);
    execFileSync('mcopy', ['-i', volume, src, `::${path}`], { env });
  };
  execFileSync('mmd', ['-i', volume, '::overlays'], { env });
  put('cmdline.txt', text('console=serial0,115200 root=PARTUUID=1234-02 rootwait\n'));
  put('config.txt', text('[all]\narm_64bit=1\n'));
  put('bcm2711-rpi-4-b.dtb', seededBytes(3000, 1));
  put('overlays/vc4-kms-v3d.dtbo', seededBytes(1500, 2));
  const vol = readFileSyncBytes(volume);
  const out = new Uint8Array(offset + vol.length);
  out.set(vol, offset);
  writeFileSync(image, out);
  rmSync(volume);
  return image;
}

function readFileSyncBytes(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    for (let at = 0; ; ) {
      const b = Buffer.alloc(1 << 20);
      const got = readSync(fd, b, 0, b.length, at);
      if (got === 0) break;
      chunks.push(b.subarray(0, got));
      at += got;
    }
    return Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}

async function apply(image: string, additions: FatAddition[], offset = 0): Promise<void> {
  const patches = await editFat(fileReadAt(image), offset, additions, T);
  const fd = openSync(image, 'r+');
  try {
    for (const p of patches) writeSync(fd, p.bytes, 0, p.bytes.length, p.offset);
  } finally {
    closeSync(fd);
  }
}

/** The volume alone (mtools and fsck.fat read a volume, not a disk). */
function volumeOf(image: string, offset: number): string {
  if (offset === 0) return image;
  const out = `${image}.part`;
  writeFileSync(out, readFileSyncBytes(image).subarray(offset));
  return out;
}

function fsckClean(volume: string): string {
  const run = spawnSync('fsck.fat', ['-n', '-v', volume]);
  const out = `${run.stdout.toString()}${run.stderr.toString()}`;
  const findings = out.split('\n').filter((line) => !/^Checking /.test(line));
  expect(findings.join('\n')).not.toMatch(/differ|wrong|invalid|orphan|lost|Free cluster|bad|Reclaimed|unused|free/i);
  expect(run.status, out).toBe(0);
  return out;
}

function mtype(volume: string, path: string): Buffer {
  return execFileSync('mcopy', ['-i', volume, '-n', `::${path}`, '-'], { env, maxBuffer: 1 << 26 });
}

describeWith(['tool:mkfs.fat', 'tool:fsck.fat', 'tool:mcopy', 'tool:mmd'], 'FAT editor judged by fsck.fat and mtools', () => {
  const cases: { bits: 12 | 16 | 32; kib: number; label: RegExp }[] = [
    { bits: 12, kib: 1024, label: /12 bit entries|FAT12/i },
    { bits: 16, kib: 8 * 1024, label: /16 bit entries|FAT16/i },
    { bits: 32, kib: 40 * 1024, label: /32 bit entries|FAT32/i },
  ];
  for (const { bits, kib, label } of cases) {
    it(`FAT${bits}: adds long-named files and a nested new directory, replaces cmdline.txt; fsck.fat clean, mtools reads every file`, async () => {
      const offset = 1 << 20;
      const image = makeVolume(`fat${bits}.img`, bits, kib, [], offset);
      const firstrun = seededBytes(5000, 3);
      const additions: FatAddition[] = [
        { path: 'firstrun.sh', bytes: firstrun },
        { path: 'cmdline.txt', bytes: text('console=serial0,115200 root=PARTUUID=1234-02 rootwait systemd.run=/boot/firstrun.sh\n') },
        { path: 'network-config', bytes: text('version: 2\n') },
        { path: 'seed/nocloud/user-data', bytes: seededBytes(1200, 4) },
        { path: 'seed/nocloud/meta-data', bytes: new Uint8Array(0) },
        { path: 'overlays/README', bytes: text('overlay notes\n') },
      ];
      await apply(image, additions, offset);
      const volume = volumeOf(image, offset);
      expect(fsckClean(volume)).toMatch(label);
      for (const a of additions) expect(new Uint8Array(mtype(volume, a.path))).toEqual(a.bytes);
      expect(new Uint8Array(mtype(volume, 'config.txt'))).toEqual(text('[all]\narm_64bit=1\n'));
      expect(new Uint8Array(mtype(volume, 'bcm2711-rpi-4-b.dtb'))).toEqual(seededBytes(3000, 1));
      expect(new Uint8Array(mtype(volume, 'overlays/vc4-kms-v3d.dtbo'))).toEqual(seededBytes(1500, 2));
      const listing = execFileSync('mdir', ['-i', volume, '::/'], { env }).toString();
      expect(listing).toMatch(/firstrun\.sh/);
      expect(listing).toMatch(/network-config/);
    });
  }

  it('replacing a file frees its old chain (fsck.fat finds no lost clusters) and our reader sees the new bytes', async () => {
    const image = makeVolume('replace.img', 16, 8 * 1024);
    await apply(image, [{ path: 'bcm2711-rpi-4-b.dtb', bytes: seededBytes(700, 9) }]);
    await apply(image, [{ path: 'BCM2711-RPI-4-B.DTB', bytes: seededBytes(9000, 10) }]);
    fsckClean(image);
    expect(new Uint8Array(mtype(image, 'bcm2711-rpi-4-b.dtb'))).toEqual(seededBytes(9000, 10));
    const vol = await FatVolume.open(fileReadAt(image), 0);
    expect(await vol.readFile('bcm2711-rpi-4-b.dtb')).toEqual(seededBytes(9000, 10));
    expect((await vol.dir(''))!.entries.filter((e) => /bcm2711/i.test(e.name))).toHaveLength(1);
  });

  it('grows a full directory by a new cluster, with ~N short names kept unique', async () => {
    const image = makeVolume('grow.img', 32, 40 * 1024);
    const additions = Array.from({ length: 40 }, (_, i) => ({ path: `overlays/overlay-number-${i}.dtbo`, bytes: seededBytes(100 + i, 20 + i) }));
    await apply(image, additions);
    fsckClean(image);
    for (const a of additions) expect(new Uint8Array(mtype(image, a.path))).toEqual(a.bytes);
    const shorts = execFileSync('mdir', ['-i', image, '::/overlays'], { env }).toString().match(/OVERLA?~\d+/g) ?? [];
    expect(new Set(shorts).size).toBe(40);
    const overlays = await (await FatVolume.open(fileReadAt(image), 0)).dir('overlays');
    expect(overlays!.clusters.length).toBeGreaterThan(1);
  });

  it('refuses a volume without room before returning any patch, naming the bytes needed and free', async () => {
    const image = makeVolume('full.img', 12, 1024);
    const vol = await FatVolume.open(fileReadAt(image), 0);
    const free = vol.freeClusters() * vol.clusterBytes;
    const before = readFileSyncBytes(image);
    // Leaves about two clusters free, then asks for more than that.
    await apply(image, [{ path: 'filler.bin', bytes: seededBytes(free - 2 * vol.clusterBytes, 30) }]);
    fsckClean(image);
    const error = await editFat(fileReadAt(image), 0, [{ path: 'firstrun.sh', bytes: seededBytes(3 * vol.clusterBytes, 31) }], T).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CardsmithError);
    const info = (error as CardsmithError).info;
    expect(info.cause).toBe('too-small');
    expect(info.message).toMatch(new RegExp(`${3 * vol.clusterBytes} bytes needed, ${2 * vol.clusterBytes} free`));
    expect(before.length).toBe(readFileSyncBytes(image).length);
  });

  it('FAT32: fills an almost-full volume to the last cluster; FSInfo then says 0 free and fsck.fat agrees', async () => {
    const image = makeVolume('exact.img', 32, 40 * 1024);
    const vol = await FatVolume.open(fileReadAt(image), 0);
    const cb = vol.clusterBytes;
    await apply(image, [{ path: 'filler.bin', bytes: seededBytes((vol.freeClusters() - 4) * cb, 40) }]);
    // Three data clusters and one for the new directory: exactly the four left.
    const last = { path: 'cloud/seed.bin', bytes: seededBytes(3 * cb - 10, 41) };
    await apply(image, [last]);
    const out = fsckClean(image);
    expect(new Uint8Array(mtype(image, last.path))).toEqual(last.bytes);
    const after = await FatVolume.open(fileReadAt(image), 0);
    expect(after.freeClusters()).toBe(0);
    const info = readFileSyncBytes(image).subarray(after.bpb.fsInfoSector * 512, after.bpb.fsInfoSector * 512 + 512);
    expect(new DataView(info.buffer, info.byteOffset).getUint32(488, true)).toBe(0);
    expect(out).toMatch(/(\d+)\/\1 clusters/);
  });

  it('refuses when the fixed FAT16 root directory is full', async () => {
    const image = makeVolume('root.img', 16, 8 * 1024, ['-r', '16']);
    const error = await editFat(fileReadAt(image), 0, Array.from({ length: 6 }, (_, i) => ({ path: `a-long-file-name-${i}.txt`, bytes: text('x') })), T).catch((e: unknown) => e);
    expect((error as CardsmithError).info.message).toMatch(/root directory is full \(16 entries\)/);
  });

  it('says what is wrong with a volume that is not FAT, naming the byte offset', async () => {
    const image = join(dir, 'zero.img');
    writeFileSync(image, new Uint8Array(4096));
    await expect(editFat(fileReadAt(image), 1024, [{ path: 'x', bytes: text('x') }], T)).rejects.toThrow(/No FAT volume at byte 1024/);
  });
});
