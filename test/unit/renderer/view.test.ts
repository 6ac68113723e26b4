// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { filterBoards, groupBoards } from '../../../renderer/src/view/boards';
import { driveRows, hiddenDriveCount } from '../../../renderer/src/view/drives';
import { formatBytes, formatEta, formatOffset, formatSpeed } from '../../../renderer/src/view/format';
import { BOOT_ZONE_SHARE, bootZoneEnd, layoutSegments, loaderSlotsOf, positionOf } from '../../../renderer/src/view/layout';
import { board, drive } from './samples';

describe('formatting', () => {
  it('prints sizes in card units, speeds, time left and offsets', () => {
    expect(formatBytes(32_000_000_000, 'en')).toBe('32 GB');
    expect(formatBytes(1_500_000, 'en')).toBe('1.5 MB');
    expect(formatBytes(1_500_000, 'de')).toBe('1,5 MB');
    expect(formatBytes(512, 'en')).toBe('512 B');
    expect(formatBytes(null, 'en')).toBe('—');
    expect(formatSpeed(250_000_000, 'en')).toBe('250 MB/s');
    expect(formatEta(65)).toBe('1:05');
    expect(formatEta(3723)).toBe('1:02:03');
    expect(formatEta(null)).toBe('—');
    expect(formatOffset(8192)).toBe('8 KiB (0x2000)');
    expect(formatOffset(512 + 1)).toBe('513 B (0x201)');
  });
});

describe('board picker', () => {
  const boards = [
    board({ id: 'rock64', name: 'ROCK64', vendor: 'Pine64', soc: 'Rockchip RK3328', family: 'rockchip', arch: 'aarch64' }),
    board({ id: 'pine64', name: 'Pine A64', vendor: 'Pine64', soc: 'Allwinner A64', arch: 'aarch64' }),
    board({ id: 'orangepi-pc', name: 'Orange Pi PC', vendor: 'Xunlong', soc: 'Allwinner H3' }),
    board({ id: 'orangepi-one', name: 'Orange Pi One', vendor: 'Xunlong', soc: 'Allwinner H3' }),
  ];

  it('matches every word against id, name, vendor, SoC and arch', () => {
    expect(filterBoards(boards, 'allwinner pine').map((b) => b.id)).toEqual(['pine64']);
    expect(filterBoards(boards, '  H3 ').map((b) => b.id)).toEqual(['orangepi-pc', 'orangepi-one']);
    expect(filterBoards(boards, '')).toHaveLength(4);
    expect(filterBoards(boards, 'aarch64 rk3328').map((b) => b.id)).toEqual(['rock64']);
  });

  it('groups by vendor, then SoC, sorted', () => {
    const groups = groupBoards(boards);
    expect(groups.map((g) => [g.vendor, g.socs.map((s) => [s.soc, s.boards.map((b) => b.id)])])).toEqual([
      ['Pine64', [['Allwinner A64', ['pine64']], ['Rockchip RK3328', ['rock64']]]],
      ['Xunlong', [['Allwinner H3', ['orangepi-one', 'orangepi-pc']]]],
    ]);
  });
});

describe('card list', () => {
  const drives = [
    drive({ device: '/dev/sdb', sizeBytes: 8e9 }),
    drive({ device: '/dev/sdc', sizeBytes: 1e9 }),
    drive({ device: '/dev/sda', system: true, unsafeReasons: ['holds /'] }),
    drive({ device: '/dev/sdd', readOnly: true }),
  ];

  it('hides unsafe drives unless asked, and never lets them be chosen', () => {
    expect(driveRows(drives, null, false).map((r) => r.drive.device)).toEqual(['/dev/sdb', '/dev/sdc']);
    expect(hiddenDriveCount(drives)).toBe(2);
    const all = driveRows(drives, null, true);
    expect(all.map((r) => r.block)).toEqual([null, null, { kind: 'unsafe', reasons: ['holds /'] }, { kind: 'unsafe', reasons: [{ key: 'drive.readOnly', params: {} }] }]);
  });

  it('lists a card smaller than the image as disabled, with the size it needs', () => {
    expect(driveRows(drives, 2e9, false).map((r) => r.block)).toEqual([null, { kind: 'too-small', needBytes: 2e9 }]);
  });
});

describe('card picture geometry', () => {
  const size = 16 * 1024 * 1024 * 1024;
  const input = {
    sizeBytes: size,
    table: 'mbr' as const,
    partitions: [
      { index: 1, start: 4 * 1024 * 1024, size: 256 * 1024 * 1024, type: 'c', bootable: true, label: 'BOOT' },
      { index: 2, start: 260 * 1024 * 1024, size: 2 * 1024 * 1024 * 1024, type: '83', bootable: false },
    ],
    loaders: loaderSlotsOf(board()),
  };

  it('gives the boot zone (up to the first partition) its fixed share and scales the rest', () => {
    expect(bootZoneEnd(input)).toBe(4 * 1024 * 1024);
    expect(positionOf(4 * 1024 * 1024, 4 * 1024 * 1024, size)).toBeCloseTo(BOOT_ZONE_SHARE * 100);
    expect(positionOf(size, 4 * 1024 * 1024, size)).toBe(100);
    expect(positionOf(2 * 1024 * 1024, 4 * 1024 * 1024, size)).toBeCloseTo(15);
  });

  it('lays out table, loader, partitions and the unused rest without gaps', () => {
    const segments = layoutSegments(input);
    expect(segments.map((s) => [s.kind, s.start, s.end, s.label])).toEqual([
      ['table', 0, 512, 'MBR'],
      ['free', 512, 8192, ''],
      ['loader', 8192, 8192 + 1040384, 'u-boot-sunxi-with-spl.bin'],
      ['free', 8192 + 1040384, 4 * 1024 * 1024, ''],
      ['partition', 4 * 1024 * 1024, 260 * 1024 * 1024, 'BOOT'],
      ['partition', 260 * 1024 * 1024, 2308 * 1024 * 1024, '#2'],
      ['free', 2308 * 1024 * 1024, size, ''],
    ]);
    const last = segments[segments.length - 1];
    expect(last && last.leftPct + last.widthPct).toBeCloseTo(100);
  });
});
