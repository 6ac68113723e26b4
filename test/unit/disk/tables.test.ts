import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGpt, GPT_ATTR_LEGACY_BOOTABLE, GPT_TYPES } from '../../../electron/engine/disk/gpt';
import { guidFromBytes, guidFromSeed, guidToBytes } from '../../../electron/engine/disk/guid';
import { buildMbr } from '../../../electron/engine/disk/mbr';
import { readDiskLayout, type ReadAt } from '../../../electron/engine/disk/read-layout';
import { fileReadAt } from '../../helpers/bytes';
import { describeWith } from '../../helpers/needs';

const dir = mkdtempSync(join(tmpdir(), 'cardsmith-disk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function readFromBytes(bytes: Uint8Array): ReadAt {
  return async (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length));
}

function readRange(path: string, offset: number, length: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buffer = new Uint8Array(length);
    readSync(fd, buffer, 0, length, offset);
    return buffer;
  } finally {
    closeSync(fd);
  }
}

function sfdisk(image: string, sizeBytes: number, script: string): void {
  writeFileSync(image, '');
  truncateSync(image, sizeBytes);
  execFileSync('sfdisk', ['--no-reread', '--no-tell-kernel', '-q', image], { input: script });
}

interface SfdiskJson {
  partitiontable: { label: string; id: string; partitions: { node: string; start: number; size: number; type: string; uuid?: string; name?: string; attrs?: string; bootable?: boolean }[] };
}
function sfdiskJson(image: string): SfdiskJson {
  return JSON.parse(execFileSync('sfdisk', ['--json', image]).toString()) as SfdiskJson;
}

describe('GUIDs', () => {
  it('round-trips mixed-endian GUIDs and derives stable v4 GUIDs', () => {
    const text = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
    expect(Array.from(guidToBytes(text).subarray(0, 4))).toEqual([0xaf, 0x3d, 0xc6, 0x0f]);
    expect(guidFromBytes(guidToBytes(text))).toBe(text);
    const a = guidFromSeed('seed', 'disk');
    expect(a).toBe(guidFromSeed('seed', 'disk'));
    expect(a).not.toBe(guidFromSeed('seed', 'root'));
    expect(a[14]).toBe('4');
  });
});

describe('pure golden tables', () => {
  it('builds the same MBR bytes as recorded from sfdisk', async () => {
    const mbr = buildMbr(0x1234abcd, [
      { bootable: true, type: 0x0c, startLba: 2048, sectors: 131072 },
      { bootable: false, type: 0x83, startLba: 133120, sectors: 33421312 },
    ]);
    // Recorded from `sfdisk` 2.38.1 for the same layout (the live oracle below checks it again).
    expect(Buffer.from(mbr.subarray(440)).toString('hex')).toBe(
      'cdab3412' + '0000' + '80202100' + '0c490108' + '00080000' + '00000200' + '00490208' + '83feffff' + '00080200' + '00f8fd01' + '0'.repeat(64) + '55aa',
    );
    const layout = await readDiskLayout(readFromBytes(mbr), 16 * 1024 ** 3);
    expect(layout.table).toBe('mbr');
    expect(layout.diskId).toBe('0x1234abcd');
    expect(layout.partitions.map((p) => [p.index, p.start, p.size, p.type, p.bootable, p.uuid])).toEqual([
      [1, 1048576, 67108864, '0x0c', true, '1234abcd-01'],
      [2, 68157440, 17111711744, '0x83', false, '1234abcd-02'],
    ]);
  });

  it('rejects partitions that overlap or leave the usable area', () => {
    const base = { typeGuid: GPT_TYPES.linuxFilesystem, uniqueGuid: guidFromSeed('s', 'p'), name: 'a' };
    expect(() => buildGpt({ diskSectors: 20480, diskGuid: guidFromSeed('s', 'd'), partitions: [{ ...base, firstLba: 20, lastLba: 100 }] })).toThrow(/usable/);
    expect(() =>
      buildGpt({ diskSectors: 20480, diskGuid: guidFromSeed('s', 'd'), partitions: [{ ...base, firstLba: 2048, lastLba: 4095 }, { ...base, name: 'b', firstLba: 4000, lastLba: 5000 }] }),
    ).toThrow(/overlap/);
  });
});

function writeImage(path: string, sizeBytes: number, writes: readonly { offset: number; bytes: Uint8Array }[]): void {
  writeFileSync(path, '');
  truncateSync(path, sizeBytes);
  const fd = openSync(path, 'r+');
  try {
    for (const w of writes) writeSync(fd, w.bytes, 0, w.bytes.length, w.offset);
  } finally {
    closeSync(fd);
  }
}

describeWith(['tool:sfdisk'], 'partition tables against sfdisk', () => {
  it('writes byte-identical MBRs, including CHS past 1023 cylinders', async () => {
    const size = 16 * 1024 ** 3;
    const image = join(dir, 'mbr.img');
    sfdisk(image, size, 'label: dos\nlabel-id: 0x1234abcd\nstart=2048, size=131072, type=c, bootable\nstart=133120, size=33421312, type=83\n');
    const ours = buildMbr(0x1234abcd, [
      { bootable: true, type: 0x0c, startLba: 2048, sectors: 131072 },
      { bootable: false, type: 0x83, startLba: 133120, sectors: 33421312 },
    ]);
    expect(Buffer.from(readRange(image, 0, 512))).toEqual(Buffer.from(ours));
  });

  it('writes a byte-identical GPT (protective MBR, both headers, both arrays)', async () => {
    const size = 64 * 1024 ** 2;
    const sectors = size / 512;
    const disk = guidFromSeed('golden', 'disk');
    const boot = guidFromSeed('golden', 'boot');
    const root = guidFromSeed('golden', 'root');
    const image = join(dir, 'gpt-sfdisk.img');
    sfdisk(
      image,
      size,
      `label: gpt\nlabel-id: ${disk}\nfirst-lba: 34\nstart=2048, size=32768, type=${GPT_TYPES.efiSystem}, uuid=${boot}, name="boot", attrs="LegacyBIOSBootable"\n` +
        `start=34816, size=96223, type=${GPT_TYPES.linuxFilesystem}, uuid=${root}, name="rootfs"\n`,
    );
    const built = buildGpt({
      diskSectors: sectors,
      diskGuid: disk,
      partitions: [
        { typeGuid: GPT_TYPES.efiSystem, uniqueGuid: boot, firstLba: 2048, lastLba: 2048 + 32768 - 1, name: 'boot', attributes: GPT_ATTR_LEGACY_BOOTABLE },
        { typeGuid: GPT_TYPES.linuxFilesystem, uniqueGuid: root, firstLba: 34816, lastLba: 34816 + 96223 - 1, name: 'rootfs', attributes: 0n },
      ],
    });
    const ours = join(dir, 'gpt-ours.img');
    writeImage(ours, size, built.writes);
    expect(Buffer.from(readRange(ours, 0, 34 * 512)).equals(Buffer.from(readRange(image, 0, 34 * 512)))).toBe(true);
    expect(Buffer.from(readRange(ours, size - 33 * 512, 33 * 512)).equals(Buffer.from(readRange(image, size - 33 * 512, 33 * 512)))).toBe(true);
  });

  it('parses what sfdisk writes: GPT', async () => {
    const image = join(dir, 'gpt-parse.img');
    sfdisk(image, 32 * 1024 ** 2, `label: gpt\nstart=2048, size=8192, type=${GPT_TYPES.efiSystem}, name="esp"\nstart=10240, type=${GPT_TYPES.linuxFilesystem}\n`);
    const oracle = sfdiskJson(image).partitiontable;
    const layout = await readDiskLayout(fileReadAt(image), 32 * 1024 ** 2);
    expect(layout.table).toBe('gpt');
    expect(layout.problems).toEqual([]);
    expect(layout.diskId).toBe(oracle.id);
    expect(layout.partitions.map((p) => [p.start / 512, p.size / 512, p.type, p.uuid, p.name])).toEqual(
      oracle.partitions.map((p) => [p.start, p.size, p.type, p.uuid, p.name]),
    );
    expect(layout.regions.map((r) => [r.what, r.start, r.end])).toEqual([
      ['mbr', 440, 512],
      ['gpt-primary-header', 512, 1024],
      ['gpt-primary-entries', 1024, 34 * 512],
      ['gpt-backup-entries', 32 * 1024 ** 2 - 33 * 512, 32 * 1024 ** 2 - 512],
      ['gpt-backup-header', 32 * 1024 ** 2 - 512, 32 * 1024 ** 2],
    ]);
  });

  it('parses what sfdisk writes: MBR with logical partitions', async () => {
    const image = join(dir, 'dos-logical.img');
    sfdisk(image, 64 * 1024 ** 2, 'label: dos\nlabel-id: 0xdeadbeef\nstart=2048, size=8192, type=c, bootable\nstart=10240, type=5\nstart=12288, size=8192, type=83\nstart=22528, size=4096, type=82\n');
    const oracle = sfdiskJson(image).partitiontable;
    const layout = await readDiskLayout(fileReadAt(image), 64 * 1024 ** 2);
    expect(layout.table).toBe('mbr');
    expect(layout.diskId).toBe(oracle.id);
    expect(layout.partitions.map((p) => [p.index, p.start / 512, p.size / 512, parseInt(p.type, 16).toString(16), p.bootable])).toEqual(
      oracle.partitions.map((p) => [Number(/(\d+)$/.exec(p.node)![1]), p.start, p.size, p.type, p.bootable === true]),
    );
    expect(layout.regions.filter((r) => r.what === 'ebr')).toHaveLength(2);
  });

  it('relocates the entry array and sfdisk reads it back', async () => {
    const size = 32 * 1024 ** 2;
    const image = join(dir, 'gpt-moved.img');
    const built = buildGpt({
      diskSectors: size / 512,
      diskGuid: guidFromSeed('moved', 'disk'),
      entriesLba: 2048,
      partitions: [{ typeGuid: GPT_TYPES.linuxFilesystem, uniqueGuid: guidFromSeed('moved', 'root'), firstLba: 4096, lastLba: 60000, name: 'root', attributes: 0n }],
    });
    expect(built.primary.firstUsableLba).toBe(2080);
    writeImage(image, size, built.writes);
    const oracle = sfdiskJson(image).partitiontable;
    expect(oracle.partitions.map((p) => [p.start, p.size, p.uuid])).toEqual([[4096, 55905, guidFromSeed('moved', 'root')]]);
    execFileSync('sfdisk', ['--verify', image]);
    const layout = await readDiskLayout(fileReadAt(image), size);
    expect(layout.problems).toEqual([]);
    expect(layout.gpt?.entriesLba).toBe(2048);
    expect(layout.regions.find((r) => r.what === 'gpt-primary-entries')).toEqual({ what: 'gpt-primary-entries', start: 2048 * 512, end: 2080 * 512 });
    // Sectors 2..33 stay free for a loader.
    expect(readRange(image, 1024, 32 * 512).every((b) => b === 0)).toBe(true);
  });

  it('falls back to the backup header when the primary is damaged', async () => {
    const size = 32 * 1024 ** 2;
    const image = join(dir, 'gpt-damaged.img');
    sfdisk(image, size, `label: gpt\nstart=2048, size=8192, type=${GPT_TYPES.linuxFilesystem}\n`);
    const bytes = readFileSync(image);
    bytes[512 + 60] = bytes[512 + 60]! ^ 0xff;
    const layout = await readDiskLayout(readFromBytes(bytes), size);
    expect(layout.table).toBe('gpt');
    expect(layout.gpt?.usedHeader).toBe('backup');
    expect(layout.problems.join(' ')).toMatch(/LBA 1 fails its CRC/);
    expect(layout.partitions).toHaveLength(1);
  });
});

describe('no table', () => {
  it('reports none for a blank disk', async () => {
    const layout = await readDiskLayout(readFromBytes(new Uint8Array(4096)), 4096);
    expect(layout).toMatchObject({ table: 'none', partitions: [] });
  });
});
