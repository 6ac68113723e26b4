import { describe, expect, it } from 'vitest';
import { boardDatabase, closestIds, findBoard, listBoards, validateDatabase } from '../../../electron/engine/boards/db';
import { CardsmithError } from '../../../electron/engine/errors';

const MiB = 1024 * 1024;

describe('board database', () => {
  const boards = listBoards();

  it('holds at least 45 schema-checked boards, each citing sources that exist', () => {
    expect(boards.length).toBeGreaterThanOrEqual(45);
    const db = boardDatabase();
    for (const board of boards) {
      expect(board.sources.length, board.id).toBeGreaterThan(0);
      for (const key of board.sources) expect(db.sources[key], `${board.id} cites ${key}`).toMatch(/\S/);
      expect(db.families[board.family], board.id).toBeDefined();
    }
  });

  it('covers every required family with a cited source', () => {
    const families = new Set(boards.map((board) => board.family));
    for (const family of ['allwinner-sunxi32', 'allwinner-sunxi64', 'rockchip', 'amlogic-meson', 'nxp-imx6', 'nxp-imx8m', 'ti-am335x', 'samsung-exynos5422', 'broadcom-rpi', 'nvidia-tegra', 'qemu-virt', 'generic']) {
      expect(families.has(family), family).toBe(true);
      expect(boardDatabase().families[family]?.sources.length).toBeGreaterThan(0);
    }
  });

  it('has the boards the product origin names', () => {
    expect(findBoard('rpi-b')).toMatchObject({ arch: 'armv6', bootMethod: 'firmware-files', partitionTables: ['mbr'] });
    expect(findBoard('jetson-tk1')).toMatchObject({ family: 'nvidia-tegra', bootMethod: 'none', writes: [] });
    expect(findBoard('pcduino3-nano')).toMatchObject({ soc: 'Allwinner A20', writes: [{ file: 'u-boot-sunxi-with-spl.bin', offsetBytes: 8192 }] });
    expect(findBoard('qemu-virt-aarch64').writes).toEqual([]);
    expect(findBoard('generic-armv7').genericFor).toEqual(['armv7']);
    expect(findBoard('generic-aarch64').genericFor).toEqual(['aarch64']);
  });

  it('never lets a write touch MBR bytes 440..511 and keeps every slot below the first-partition minimum', () => {
    for (const board of boards) {
      for (const layout of [board.writes, ...board.alternativeWrites.map((alternative) => alternative.writes)]) {
        for (const write of layout) {
          const end = write.offsetBytes + write.maxBytes;
          expect(write.offsetBytes >= 512 || end <= 440, `${board.id} ${write.file}`).toBe(true);
          expect(end, `${board.id} ${write.file} slot end`).toBeLessThanOrEqual(board.firstPartitionMinStart);
        }
        const sorted = [...layout].sort((a, b) => a.offsetBytes - b.offsetBytes);
        sorted.slice(1).forEach((write, i) => {
          const previous = sorted[i]!;
          expect(previous.offsetBytes + previous.maxBytes, `${board.id}: ${previous.file} slot runs into ${write.file}`).toBeLessThanOrEqual(write.offsetBytes);
        });
      }
    }
  });

  it('states the family rules the issue lists', () => {
    expect(findBoard('rock64').firstPartitionMinStart).toBe(16 * MiB);
    expect(findBoard('beaglebone-black').firstPartitionMinStart).toBe(4 * MiB);
    expect(findBoard('odroid-n2')).toMatchObject({ partitionTables: ['mbr'], mbrWritable: { start: 0, end: 440 } });
    expect(findBoard('orangepi-zero3').alternativeWrites.map((alt) => alt.writes[0]?.offsetBytes)).toContain(256 * 1024);
    expect(findBoard('wandboard').writes.map((write) => write.offsetBytes)).toEqual([1024, 69 * 1024]);
    expect(findBoard('imx8mm-evk').writes[0]?.offsetBytes).toBe(33 * 1024);
    expect(findBoard('imx8mp-evk').writes[0]?.offsetBytes).toBe(32 * 1024);
    expect(findBoard('odroid-xu4').writes.map((write) => write.offsetBytes / 512)).toEqual([1, 31, 63, 2111]);
    expect(findBoard('rpi-3-b').bootPartition).toMatchObject({ fat: true, mustBeFirst: true });
    expect(findBoard('rpi-3-b').bootPartition.configTxt).toContain('kernel=u-boot.bin');
  });

  it('rejects a database with an unknown source key or family', () => {
    const db = structuredClone(boardDatabase());
    db.boards[0]!.sources = ['NO-SUCH-KEY'];
    expect(() => validateDatabase(db)).toThrow(/unknown source NO-SUCH-KEY/);
    const other = structuredClone(boardDatabase());
    other.boards[0]!.family = 'martian';
    expect(() => validateDatabase(other)).toThrow(/unknown family martian/);
  });
});

describe('findBoard', () => {
  it('lists the closest ids for an unknown board', () => {
    let error: unknown;
    try {
      findBoard('cubitruck');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CardsmithError);
    const info = (error as CardsmithError).info;
    expect(info.cause).toBe('unknown-board');
    expect(info.message).toMatch(/^Unknown board "cubitruck"; closest: cubietruck/);
    expect(info.details?.closest).toContain('cubietruck-plus');
  });

  it('ranks substring matches first', () => {
    expect(closestIds('rock', ['rock64', 'rockpro64', 'pinebook'])).toEqual(['rock64', 'rockpro64', 'pinebook']);
  });

  it('pairs a generic image with a board loader of the same arch', () => {
    const paired = findBoard('generic-armv7+cubietruck');
    expect(paired).toMatchObject({ id: 'generic-armv7+cubietruck', arch: 'armv7', partitionTables: ['mbr'], firstPartitionMinStart: 16 * MiB });
    expect(paired.writes).toEqual(findBoard('cubietruck').writes);
    expect(() => findBoard('generic-aarch64+cubietruck')).toThrow(/does not run on Cubietruck/);
    expect(() => findBoard('rock64+cubietruck')).toThrow(/not a generic profile/);
  });
});
