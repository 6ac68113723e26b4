import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseGeometry, fatSizeFor, planFat, type FatDir, type FatFile, type FatNode } from '../../../electron/engine/fs/fat/layout';
import { assignNames, encodeLongName, shortNameChecksum } from '../../../electron/engine/fs/fat/names';
import { writeFat } from '../../../electron/engine/fs/fat/write';
import { FileSink, MemorySink } from '../../../electron/engine/fs/sink';
import { seededBytes } from '../../helpers/bytes';
import { describeWith } from '../../helpers/needs';

const dir = mkdtempSync(join(tmpdir(), 'cardsmith-fat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MIB = 1024 * 1024;
const T = Date.UTC(2024, 4, 17, 10, 30, 42) / 1000;

function file(name: string, data: Uint8Array): FatFile {
  return {
    kind: 'file',
    name,
    size: data.length,
    mtime: T,
    async *content() {
      for (let i = 0; i < data.length; i += 100_000) yield data.subarray(i, i + 100_000);
    },
  };
}
function folder(name: string, children: FatNode[]): FatDir {
  return { kind: 'dir', name, mtime: T, children };
}

describe('FAT names', () => {
  it('keeps valid upper-case 8.3 names short and gives others ~N tails and LFNs', () => {
    const names = assignNames(['KERNEL.IMG', 'config.txt', 'bcm2711-rpi-4-b.dtb', 'bcm2711-rpi-400.dtb', '.hidden', 'a b.tar.gz']);
    const text = names.map((n) => [new TextDecoder().decode(n.short), n.long]);
    expect(text).toEqual([
      ['KERNEL  IMG', null],
      ['CONFIG  TXT', 'config.txt'],
      ['BCM271~1DTB', 'bcm2711-rpi-4-b.dtb'],
      ['BCM271~2DTB', 'bcm2711-rpi-400.dtb'],
      ['HIDDEN~1   ', '.hidden'],
      ['AB_TAR~1GZ ', 'a b.tar.gz'],
    ]);
  });

  it('encodes LFN entries in reverse order with the short-name checksum', () => {
    const [name] = assignNames(['config.txt']);
    const lfn = encodeLongName(name!);
    expect(lfn.length).toBe(32);
    expect(lfn[0]).toBe(0x41);
    expect(lfn[11]).toBe(0x0f);
    expect(lfn[13]).toBe(shortNameChecksum(name!.short));
    expect(lfn[1]).toBe('c'.charCodeAt(0));
    // 10 characters, a 0x0000 terminator, then 0xFFFF padding.
    expect([lfn[28], lfn[29], lfn[30], lfn[31]]).toEqual([0xff, 0xff, 0xff, 0xff]);
  });
});

describe('FAT planning', () => {
  it('chooses FAT16 below 512 MiB and FAT32 above, with valid cluster counts', () => {
    const small = chooseGeometry(64 * MIB);
    expect(small.type).toBe('fat16');
    expect(small.clusterCount).toBeGreaterThanOrEqual(4085);
    expect(small.clusterCount).toBeLessThanOrEqual(65524);
    const big = chooseGeometry(600 * MIB);
    expect(big.type).toBe('fat32');
    expect(big.clusterCount).toBeGreaterThan(65524);
    expect(big.dataStartSector % big.sectorsPerCluster).toBe(0);
  });

  it('rejects files that do not fit, stating needed and given bytes', () => {
    const tree = folder('', [file('big.bin', new Uint8Array(20 * MIB))]);
    expect(() => planFat(tree, { sizeBytes: 16 * MIB, volumeId: 1, mtime: T })).toThrow(/need about \d+ bytes but the partition has 16777216/);
  });

  it('rejects names FAT cannot hold, naming the path', () => {
    expect(() => planFat(folder('', [folder('boot', [file('a:b', new Uint8Array(1))])]), { sizeBytes: 16 * MIB, volumeId: 1, mtime: T })).toThrow(/boot\/a:b/);
    expect(() => planFat(folder('', [file('x'.repeat(256), new Uint8Array(1))]), { sizeBytes: 16 * MIB, volumeId: 1, mtime: T })).toThrow(/256 characters/);
    expect(() => planFat(folder('', [file('Readme', new Uint8Array(1)), file('README', new Uint8Array(1))]), { sizeBytes: 16 * MIB, volumeId: 1, mtime: T })).toThrow(/ignores case/);
  });

  it('sizes a volume that fits the files plus headroom', () => {
    const tree = folder('', [file('a.bin', new Uint8Array(30 * MIB)), file('b.bin', new Uint8Array(5 * MIB))]);
    const size = fatSizeFor(tree, { minBytes: 16 * MIB, headroomBytes: 4 * MIB });
    const plan = planFat(tree, { sizeBytes: size, volumeId: 1, mtime: T });
    const clusterBytes = plan.geometry.sectorsPerCluster * 512;
    expect((plan.geometry.clusterCount - plan.usedClusters) * clusterBytes).toBeGreaterThanOrEqual(4 * MIB);
    expect(size).toBeLessThan(48 * MIB);
  });

  it('writes the same bytes for the same inputs', async () => {
    const tree = folder('', [file('config.txt', seededBytes(100, 1)), folder('overlays', [file('x.dtbo', seededBytes(5000, 2))])]);
    const a = new MemorySink(16 * MIB);
    const b = new MemorySink(16 * MIB);
    await writeFat(planFat(tree, { sizeBytes: 16 * MIB, volumeId: 0x1234, mtime: T, label: 'BOOT' }), a);
    await writeFat(planFat(tree, { sizeBytes: 16 * MIB, volumeId: 0x1234, mtime: T, label: 'BOOT' }), b);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
  });
});

function mdir(image: string, path: string): string {
  return execFileSync('mdir', ['-i', image, '-a', path], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } }).toString();
}
function mtype(image: string, path: string): Buffer {
  return execFileSync('mcopy', ['-i', image, '-n', `::${path}`, '-'], { maxBuffer: 64 * MIB, env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
}

async function build(name: string, tree: FatDir, sizeBytes: number, type?: 'fat16' | 'fat32'): Promise<string> {
  const image = join(dir, name);
  const sink = await FileSink.create(image, sizeBytes);
  try {
    await writeFat(planFat(tree, { sizeBytes, volumeId: 0xcafe1234, mtime: T, label: 'CARDSMITH', ...(type ? { type } : {}) }), sink);
  } finally {
    await sink.close();
  }
  return image;
}

describeWith(['tool:fsck.fat', 'tool:mdir', 'tool:mcopy'], 'FAT volumes judged by fsck.fat and mtools', () => {
  const kernel = seededBytes(3 * MIB + 123, 7);
  const long = 'a-very-long-device-tree-overlay-name-that-goes-on-and-on-ünïcödé-名前.dtbo';
  const overlays = Array.from({ length: 40 }, (_, i) => file(`overlay-${String(i).padStart(2, '0')}.dtbo`, seededBytes(1000 + i * 37, i)));
  const tree = folder('', [
    file('vmlinuz', kernel),
    file('config.txt', new TextEncoder().encode('kernel=u-boot.bin\n')),
    file('EMPTY.TXT', new Uint8Array(0)),
    folder('extlinux', [file('extlinux.conf', new TextEncoder().encode('label linux\n'))]),
    folder('overlays', [...overlays, file(long, seededBytes(77, 99)), folder('nested', [file('deep.bin', seededBytes(9000, 5))])]),
  ]);

  for (const [type, size] of [['fat16', 64 * MIB], ['fat32', 600 * MIB]] as const) {
    it(`${type}: fsck.fat finds nothing and mtools reads back every file`, async () => {
      const image = await build(`${type}.img`, tree, size, type);
      const fsck = execFileSync('fsck.fat', ['-n', '-v', image]).toString();
      expect(fsck).toMatch(type === 'fat32' ? /32 bit entries/ : /16 bit entries/);
      expect(fsck).not.toMatch(/differ|Free cluster summary wrong|invalid|Orphan/i);
      const root = mdir(image, '::/');
      expect(root).toMatch(/Volume in drive : is CARDSMITH/);
      expect(root).toMatch(/Serial Number is CAFE-1234/);
      expect(root).toMatch(/config\.txt/);
      expect(root).toMatch(/extlinux/);
      expect(mdir(image, '::/overlays')).toContain(long);
      expect(mtype(image, '/vmlinuz').equals(Buffer.from(kernel))).toBe(true);
      expect(mtype(image, '/config.txt').toString()).toBe('kernel=u-boot.bin\n');
      expect(mtype(image, '/EMPTY.TXT').length).toBe(0);
      expect(mtype(image, '/overlays/overlay-39.dtbo').equals(Buffer.from(seededBytes(1000 + 39 * 37, 39)))).toBe(true);
      expect(mtype(image, `/overlays/${long}`).equals(Buffer.from(seededBytes(77, 99)))).toBe(true);
      expect(mtype(image, '/overlays/nested/deep.bin').equals(Buffer.from(seededBytes(9000, 5)))).toBe(true);
      expect(mdir(image, '::/overlays/nested')).toMatch(/deep\s+bin\s+9000 2024-05-17\s+10:30/i);
    });
  }

  it('an empty volume is clean', async () => {
    const image = await build('empty.img', folder('', []), 32 * MIB);
    execFileSync('fsck.fat', ['-n', image]);
    expect(readFileSync(image).subarray(510, 512)).toEqual(Buffer.from([0x55, 0xaa]));
  });
});
