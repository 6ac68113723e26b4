/**
 * The catalog readers against documents in the upstreams' real field layout (written for this
 * project, test/fixtures/catalogs/): every published file is listed under its own id or skipped
 * with a problem line and a counted reason, never dropped or merged silently.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boardDatabase } from '../../../electron/engine/boards/db';
import { parseCatalog } from '../../../electron/engine/sources/catalog-formats';
import type { ParsedCatalog } from '../../../electron/engine/sources/catalogs/read';

const boardIds = boardDatabase().boards.map((board) => board.id);
const fixturePath = (name: string): string => join(__dirname, '..', '..', 'fixtures', 'catalogs', name);
const parse = (name: string): ParsedCatalog => parseCatalog(JSON.parse(readFileSync(fixturePath(name), 'utf8')), name, boardIds);

/** Every entry met is either listed or named by exactly one problem line. */
function expectAccounted(parsed: ParsedCatalog): void {
  const skipped = Object.values(parsed.stats.skipped).reduce((sum, n) => sum + n, 0);
  expect(parsed.stats.listed + skipped).toBe(parsed.stats.read);
  expect(parsed.problems).toHaveLength(skipped);
  expect(new Set(parsed.entries.map((entry) => entry.id)).size).toBe(parsed.entries.length);
}

describe('Raspberry Pi Imager os_list as published', () => {
  const parsed = parse('os-list.json');
  const byName = (name: string) => parsed.entries.filter((entry) => entry.name.endsWith(name));

  it('lists 7 of the 14 images, skipping 7 with a reason each', () => {
    expect(parsed.stats).toEqual({
      source: 'os-list.json',
      format: 'rpi-imager',
      read: 14,
      listed: 7,
      skipped: { 'imager-action': 2, 'unsupported-url': 1, 'local-path-in-remote-catalog': 1, 'invalid-field': 1, 'not-a-card-image': 1, 'missing-field': 1 },
      boards: ['rpi-2-b', 'rpi-3-b', 'rpi-3-b-armv7', 'rpi-3-b-plus', 'rpi-4-b', 'rpi-4-b-armv7', 'rpi-400', 'rpi-5', 'rpi-b', 'rpi-zero-2-w', 'rpi-zero-w'],
      unmapped: ['pi2-64bit'],
    });
    expectAccounted(parsed);
  });

  it('keeps both images of one name (two PINN versions, two nightly builds) under their own ids', () => {
    const pinn = byName('/ PINN');
    expect(pinn.map((entry) => entry.description)).toEqual(['PINN p3.8.8: an installer for other images', 'PINN p3.9.2: an installer for other images; supports the Pi 5']);
    expect(pinn[0]!.id).not.toBe(pinn[1]!.id);
    expect(pinn.map((entry) => entry.boards.includes('rpi-5'))).toEqual([false, true]);
    const nightly = byName('FullpageOS (Nightly)');
    expect(nightly.map((entry) => entry.releaseDate)).toEqual(['2025-05-01', '2025-05-08']);
    // Ids depend on the published url, not on the position in the document.
    const again = parseCatalog({ os_list: [...(JSON.parse(readFileSync(fixturePath('os-list.json'), 'utf8')) as { os_list: unknown[] }).os_list].reverse() }, 'os-list.json', boardIds);
    expect(again.entries.map((entry) => entry.id).sort()).toEqual(parsed.entries.map((entry) => entry.id).sort());
  });

  it('reports relative, ftp://, unnamed, unreadable and non-image entries instead of dropping them', () => {
    expect(parsed.problems).toEqual([
      'os-list.json: item Misc utility images / Erase: an Imager action (internal://format), not an image (imager-action)',
      'os-list.json: item Other specific-purpose OS / Kiosk (mirror only): url "ftp://ftp.example.org/kiosk/kiosk-2025.img.xz" is not http(s) (unsupported-url)',
      'os-list.json: item Other specific-purpose OS / Kiosk (relative): url "images/kiosk-2025.img.xz" names a local file, which only a catalog file on this computer may do (local-path-in-remote-catalog)',
      'os-list.json: item Other specific-purpose OS / Bad dates and hashes: invalid image_download_sha256 "not-hex", release_date "13/05/2025" (invalid-field)',
      'os-list.json: item Other specific-purpose OS / Installer ISO: installer-arm64.iso is not a .img/.raw/.wic image (plain or gz/xz/zst/bz2) nor a zip (not-a-card-image)',
      'os-list.json: item Other specific-purpose OS / #6: has no name (missing-field)',
      'os-list.json: item Use custom: an Imager action (choose a file), not an image (imager-action)',
    ]);
  });

  it('maps pi5-32bit and the short pi4/pi5 tags onto the Pi 5 and Pi 4 (inherited from the folder)', () => {
    expect(byName('Raspberry Pi OS (32-bit)')[0]!.boards).toEqual(['rpi-5', 'rpi-4-b-armv7', 'rpi-3-b-armv7', 'rpi-2-b', 'rpi-b', 'rpi-zero-w']);
    expect(byName('FullpageOS (Nightly)')[0]!.boards).toEqual(['rpi-4-b', 'rpi-400', 'rpi-4-b-armv7', 'rpi-5']);
    expect(byName('Pi 2 v1.2 tool')[0]!.boards).toEqual([]);
  });

  it('carries the fields the GUI shows: icon, description, release date, init format, devices, capabilities', () => {
    expect(byName('Raspberry Pi OS (64-bit)')[0]).toMatchObject({
      icon: 'https://downloads.raspberrypi.com/imager/icons/Raspberry.png',
      description: 'Raspberry Pi OS (64-bit) for Raspberry Pi',
      releaseDate: '2025-05-13',
      initFormat: 'systemd',
      devices: ['pi5-64bit', 'pi4-64bit', 'pi3-64bit'],
      capabilities: ['rpi_connect'],
      downloadSize: 1225180532,
      extractSize: 6148849664,
    });
    // A relative icon cannot be loaded from a document without a base URL: left out, not kept broken.
    expect(byName('FullpageOS (Nightly)')[0]!.icon).toBeUndefined();
    const fetched = parseCatalog(JSON.parse(readFileSync(fixturePath('os-list.json'), 'utf8')), 'https://downloads.raspberrypi.com/os_list_imagingutility_v4.json', boardIds);
    expect(fetched.entries.find((entry) => entry.name.endsWith('FullpageOS (Nightly)'))!.icon).toBe('https://downloads.raspberrypi.com/icons/fullpageos.png');
  });
});

describe('Armbian armbian-images.json, today’s generator', () => {
  const parsed = parse('armbian-current.json');
  const ids = parsed.entries.map((entry) => entry.id);

  it('lists 10 of 17 files and counts the 7 others by reason', () => {
    expect(parsed.stats).toMatchObject({
      format: 'armbian',
      read: 17,
      listed: 10,
      skipped: { 'not-a-card-image': 4, 'invalid-field': 1, 'unsupported-url': 1, 'missing-field': 1 },
      unmapped: ['khadas-edge2', 'khadas-vim4', 'uefi-arm64'],
    });
    expectAccounted(parsed);
  });

  it('offers the .img.xz, never the u-boot.bin, qcow2, OOWOW or torrent beside it', () => {
    expect(ids.filter((id) => id.includes('rock64'))).toEqual(['armbian:25-8-1-rock64-bookworm-current-6-12-41-minimal-img-xz']);
    expect(parsed.entries.filter((entry) => entry.devices?.[0] === 'uefi-arm64').map((entry) => entry.url)).toEqual([
      'https://dl.armbian.com/uefi-arm64/archive/Armbian_25.8.1_Uefi-arm64_noble_current_6.12.41.img.xz',
    ]);
    expect(ids.filter((id) => id.includes('khadas-vim4'))).toEqual(['armbian:25-8-1-khadas-vim4-noble-vendor-5-15-119-img-xz']);
    const reasons = parsed.problems.filter((line) => line.endsWith('(not-a-card-image)')).map((line) => line.replace(/^.*? is /, ''));
    expect(reasons).toEqual([
      'a boot loader file, not a card image (not-a-card-image)',
      'a signature, checksum or torrent file, not a card image (not-a-card-image)',
      'a virtual machine disk, not a card image (not-a-card-image)',
      "an image for Khadas' OOWOW installer, not for a card (not-a-card-image)",
    ]);
  });

  it('keeps variants and application images apart from the plain image (boot-csot, openmediavault)', () => {
    expect(ids).toContain('armbian:25-8-1-khadas-edge2-noble-vendor-6-1-115-boot-csot-img-xz');
    const pc = parsed.entries.filter((entry) => entry.boards.includes('orangepi-pc'));
    expect(pc.map((entry) => entry.name)).toEqual(['Armbian 25.8.1 Orange Pi PC bookworm current minimal', 'Armbian 25.8.1 Orange Pi PC bookworm current minimal openmediavault']);
  });

  it('reads date, size, checksum URL and the slugs Armbian names differently', () => {
    expect(parsed.entries.find((entry) => entry.devices?.[0] === 'rock64')).toMatchObject({
      releaseDate: '2025-08-20',
      downloadSize: 271093212,
      checksumUrl: 'https://dl.armbian.com/rock64/archive/Armbian_25.8.1_Rock64_bookworm_current_6.12.41_minimal.img.xz.sha',
      description: 'Vendor: Pine64. Linux 6.12.41',
    });
    const boardOf = (slug: string): readonly string[] | undefined => parsed.entries.find((entry) => entry.devices?.[0] === slug)?.boards;
    expect(boardOf('renegade')).toEqual(['roc-rk3328-cc']);
    expect(boardOf('lepotato')).toEqual(['libretech-cc']);
    expect(boardOf('rpi4b')).toContain('rpi-5');
    expect(parsed.problems).toContain('armbian-current.json: asset #11 (lime2): invalid file_size "12a" (invalid-field)');
  });
});

describe('Armbian armbian-images.json, older records', () => {
  const parsed = parse('armbian-legacy.json');

  it('reads file_updated, distro_release, kernel_branch, image_variant and preinstalled_application', () => {
    expect(parsed.stats).toMatchObject({ read: 6, listed: 4, skipped: { 'not-a-card-image': 1, 'invalid-field': 1 }, boards: ['a64-olinuxino', 'khadas-vim', 'rock64'], unmapped: [] });
    expectAccounted(parsed);
    expect(parsed.entries.map((entry) => [entry.name, entry.releaseDate])).toEqual([
      ['Armbian 24.5.1 Rock64 bookworm current minimal', '2024-05-20'],
      ['Armbian 24.5.1 Khadas VIM1 jammy current server', '2024-05-21'],
      ['Armbian 24.5.1 Khadas VIM1 jammy current server homeassistant', '2024-05-21'],
      ['Armbian 24.5.1 A64 OLinuXino bookworm current minimal', '2024-05-22'],
    ]);
    expect(parsed.problems).toEqual([
      'armbian-legacy.json: asset #4 (lime-a64): Armbian_24.5.1_Lime-a64_bookworm_current_6.6.31_minimal.img.xz.asc is a signature, checksum or torrent file, not a card image (not-a-card-image)',
      'armbian-legacy.json: asset #5 (pine64so): invalid file_updated "May 23 2024" (invalid-field)',
    ]);
  });
});
