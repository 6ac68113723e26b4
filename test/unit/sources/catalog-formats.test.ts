import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectCatalogFormat, parseCatalog } from '../../../electron/engine/sources/catalog-formats';
import { ARMBIAN_BOARDS, mapBoardName } from '../../../electron/engine/sources/catalogs/board-slugs';
import { notACardImage } from '../../../electron/engine/sources/catalogs/read';
import { findSha256 } from '../../../electron/engine/sources/catalog';
import defaultCatalog from '../../../electron/engine/sources/catalogs/default.json';
import { boardDatabase } from '../../../electron/engine/boards/db';

const fixture = (name: string): unknown => JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8'));
const boardIds = boardDatabase().boards.map((board) => board.id);

describe('Cardsmith catalogs', () => {
  it('the shipped default catalog is valid and its boards exist', () => {
    const parsed = parseCatalog(defaultCatalog, 'default', boardIds);
    expect(parsed.problems).toEqual([]);
    expect(parsed.entries.length).toBeGreaterThanOrEqual(4);
    for (const entry of parsed.entries) for (const board of entry.boards) expect(boardIds).toContain(board);
    expect(parsed.entries.filter((entry) => entry.kind === 'rootfs').every((entry) => entry.loader !== undefined)).toBe(true);
    expect(parsed.links.map((link) => link.url)).toContain('https://github.armbian.com/armbian-images.json');
  });

  it('reports which entry is invalid and why, and keeps the rest', () => {
    const parsed = parseCatalog(
      {
        format: 'cardsmith-catalog/1',
        entries: [
          { id: 'good', name: 'Good', kind: 'image', boards: ['rock64'], url: 'https://example.com/a.img.xz', sha256: 'a'.repeat(64) },
          { id: 'bad-sha', name: 'Bad', kind: 'image', boards: [], url: 'https://example.com/b.img', sha256: 'nothex' },
          { id: 'rootfs-no-loader', name: 'R', kind: 'rootfs', boards: [], url: 'https://example.com/r.tar.gz' },
          { id: 'extra', name: 'E', kind: 'image', boards: [], url: 'x', surprise: 1 },
        ],
      },
      'test',
      boardIds,
    );
    expect(parsed.entries.map((entry) => entry.id)).toEqual(['good']);
    expect(parsed.problems).toHaveLength(3);
    expect(parsed.stats).toMatchObject({ read: 4, listed: 1, skipped: { 'invalid-field': 3 } });
    expect(parsed.problems[0]).toMatch(/entry bad-sha: \/sha256 must match pattern/);
    expect(parsed.problems[1]).toMatch(/entry rootfs-no-loader: .*loader/);
    expect(parsed.problems[2]).toMatch(/entry extra: .*additional properties/);
  });

  it('rejects a document that is not a catalog at all, saying so', () => {
    expect(parseCatalog({ hello: 1 }, 'x', boardIds).problems[0]).toMatch(/not a Cardsmith, Raspberry Pi Imager or Armbian catalog/);
    expect(parseCatalog({ format: 'cardsmith-catalog/1' }, 'x', boardIds).problems[0]).toMatch(/entries/);
  });
});

describe('Raspberry Pi Imager os_list', () => {
  const parsed = parseCatalog(fixture('rpi-os-list.json'), 'rpi', boardIds);

  it('is recognised and flattens nested subitems into images with both hashes', () => {
    expect(detectCatalogFormat(fixture('rpi-os-list.json'))).toBe('rpi-imager');
    const names = parsed.entries.map((entry) => entry.name);
    expect(names).toEqual(['Raspberry Pi OS (64-bit)', 'Raspberry Pi OS (other) / Raspberry Pi OS Lite (32-bit)']);
    const lite = parsed.entries[1]!;
    expect(lite).toMatchObject({ kind: 'image', extractSize: 2759852032, downloadSize: 481290732, releaseDate: '2024-11-19' });
    expect(lite.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(lite.extractSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('maps device tags onto Pi board ids that exist', () => {
    expect(parsed.entries[0]!.boards).toEqual(expect.arrayContaining(['rpi-4-b', 'rpi-400', 'rpi-3-b', 'rpi-zero-2-w']));
    expect(parsed.entries[1]!.boards).toEqual(expect.arrayContaining(['rpi-2-b', 'rpi-b', 'rpi-4-b-armv7']));
  });

  it('returns subitems_url as a link and reports an item with unreadable hashes or sizes', () => {
    expect(parsed.links).toEqual([{ url: 'https://downloads.raspberrypi.com/os_list_imagingutility_v4_general.json', prefix: 'Other general-purpose OS / ' }]);
    expect(parsed.problems).toEqual([
      'rpi: item Raspberry Pi OS (other) / Broken entry: invalid image_download_sha256 "xyz", extract_size -5 (invalid-field)',
      'rpi: item Erase: an Imager action (internal://format), not an image (imager-action)',
      'rpi: item Use custom: an Imager action (choose a file), not an image (imager-action)',
    ]);
    expect(parsed.entries.find((entry) => entry.name.includes('Broken'))).toBeUndefined();
  });
});

describe('Armbian armbian-images.json', () => {
  const parsed = parseCatalog(fixture('armbian-images.json'), 'armbian', boardIds);

  it('maps slugs onto board ids where they match and leaves the others unmapped', () => {
    expect(mapBoardName(ARMBIAN_BOARDS, 'orangepipc', boardIds)).toEqual(['orangepi-pc']);
    expect(mapBoardName(ARMBIAN_BOARDS, 'rock64', boardIds)).toEqual(['rock64']);
    expect(mapBoardName(ARMBIAN_BOARDS, 'khadas-edge2', boardIds)).toEqual([]);
    const byBoard = Object.fromEntries(parsed.entries.map((entry) => [entry.id, entry.boards]));
    expect(byBoard).toEqual({
      'armbian:25-8-1-rock64-bookworm-current-6-12-41-minimal-img-xz': ['rock64'],
      'armbian:25-8-1-orangepipc-noble-current-6-12-41-img-xz': ['orangepi-pc'],
      'armbian:25-8-1-khadas-edge2-noble-vendor-6-1-115-gnome-desktop-img-xz': [],
    });
  });

  it('marks every image as taking first-boot settings by the first-login preset', () => {
    expect(parsed.entries.map((entry) => entry.initFormat)).toEqual(['armbian', 'armbian', 'armbian']);
  });

  it('reports a field of the wrong type instead of leaving it out', () => {
    const asset = { board_slug: 'rock64', file_url: 'https://dl.armbian.com/rock64/a.img.xz', distro: 12, file_application: ['x'] };
    expect(parseCatalog({ assets: [asset] }, 'armbian', boardIds).problems).toEqual(['armbian: asset #0 (rock64): invalid distro 12, file_application ["x"] (invalid-field)']);
  });

  it('keeps the checksum URL, the size, and reports assets without a file', () => {
    const rock64 = parsed.entries[0]!;
    expect(rock64.checksumUrl).toMatch(/\.sha$/);
    expect(rock64.downloadSize).toBe(271093212);
    expect(rock64.releaseDate).toBe('2025-08-20');
    expect(parsed.problems).toEqual([
      'armbian: asset #2 (orangepipc): Armbian_25.8.1_Orangepipc_noble_current_6.12.41.img.xz.torrent is a signature, checksum or torrent file, not a card image (not-a-card-image)',
      'armbian: asset #4 (nanopineo): has no file_url (missing-field)',
    ]);
  });
});

describe('notACardImage', () => {
  it('accepts raw images in every compression Cardsmith decodes, and zips; names what the others are', () => {
    for (const name of ['a.img', 'a.raw', 'a.wic', 'a.img.gz', 'a.img.xz', 'a.img.zst', 'a.img.bz2', 'a.wic.bz2', 'a.zip', 'A.IMG.XZ']) expect(notACardImage(name), name).toBeNull();
    expect(notACardImage('a.img.lz4')).toBe('an image compressed as .lz4, which Cardsmith does not decode');
    expect(notACardImage('a.img.qcow2')).toBe('a virtual machine disk, not a card image');
    expect(notACardImage('Armbian_x_minimal.u-boot.bin.xz')).toBe('a boot loader file, not a card image');
    expect(notACardImage('a.tar.gz')).toBe('not a .img/.raw/.wic image (plain or gz/xz/zst/bz2) nor a zip');
  });
});

describe('findSha256', () => {
  const hash = 'ab'.repeat(32);
  it('reads sha256sum lines by file name, and single-hash files', () => {
    expect(findSha256(`${'cd'.repeat(32)}  other.img\n${hash} *Armbian.img.xz\n`, 'Armbian.img.xz')).toBe(hash);
    expect(findSha256(`${hash.toUpperCase()}\n`, 'x.img')).toBe(hash);
    expect(findSha256(`${hash}  a\n${'cd'.repeat(32)}  b\n`, 'c')).toBeNull();
    expect(findSha256('d41d8cd98f00b204e9800998ecf8427e  x.tar.gz', 'x.tar.gz')).toBeNull();
  });
});
