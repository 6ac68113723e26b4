/** Where the fixtures script (scripts/fixtures.sh) leaves the real Debian packages the tests use. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const CACHE_DIR = process.env.CARDSMITH_FIXTURES ?? join(__dirname, '..', '..', '.cache');

/** Path inside an unpacked package, e.g. fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot'). */
export function fixturePath(pkg: string, ...inside: string[]): string {
  return join(CACHE_DIR, 'fixtures', pkg, ...inside);
}

/** The downloaded .deb itself, e.g. debPath('u-boot-rockchip_arm64'). */
export function debPath(pkg: string): string {
  return join(CACHE_DIR, 'debs', `${pkg}.deb`);
}

export function hasFixture(pkg: string): boolean {
  return existsSync(join(CACHE_DIR, 'fixtures', pkg, '.complete'));
}
