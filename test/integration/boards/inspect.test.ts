/**
 * `cardsmith inspect` (the built CLI bundle) on images carrying real Debian loaders: it must name
 * the loader, its offset, the board family and the consistent boards.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Inspection } from '../../../electron/engine/disk/model';
import { fixturePath } from '../../helpers/fixtures';
import { describeWith } from '../../helpers/needs';
import { blankMbrImage, install, MiB } from './images';

const root = join(__dirname, '..', '..', '..');
const work = mkdtempSync(join(tmpdir(), 'cardsmith-inspect-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function cli(args: readonly string[]): string {
  return execFileSync(process.execPath, [join(root, 'bin/cardsmith.cjs'), ...args], { encoding: 'utf8' });
}

const cases = [
  { board: 'pcduino3', pkg: 'u-boot-sunxi_armhf', dir: 'Linksprite_pcDuino3', first: 1 * MiB, kinds: ['allwinner-egon', 'uboot-uimage'], family: 'Allwinner 32-bit' },
  { board: 'pine64-plus', pkg: 'u-boot-sunxi_arm64', dir: 'pine64_plus', first: 1 * MiB, kinds: ['allwinner-egon', 'uboot-fit'], family: 'Allwinner 64-bit' },
  { board: 'rock64', pkg: 'u-boot-rockchip_arm64', dir: 'rock64-rk3328', first: 16 * MiB, kinds: ['rockchip-idbloader', 'uboot-fit'], family: 'Rockchip' },
  { board: 'wandboard', pkg: 'u-boot-imx_armhf', dir: 'wandboard', first: 1 * MiB, kinds: ['imx-ivt', 'uboot-fit'], family: 'NXP i.MX53 / i.MX6' },
  { board: 'beaglebone-black', pkg: 'u-boot-omap_armhf', dir: 'am335x_evm', first: 4 * MiB, kinds: ['ti-toc', 'uboot-fit'], family: 'TI AM335x' },
] as const;

describeWith(cases.map((c) => `file:${fixturePath(c.pkg, '.complete')}` as const), 'cardsmith inspect names loaders and families', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), 'cli'], { cwd: root, stdio: 'ignore' });
  });

  it.each(cases.map((c) => [c.board, c] as const))('%s', async (_id, c) => {
    const image = join(work, `${c.board}.img`);
    blankMbrImage(image, 24 * MiB, c.first);
    const outcome = await install(c.board, image, fixturePath(c.pkg, 'usr/lib/u-boot', c.dir));
    expect(outcome.ok ? 'ok' : outcome.error.message).toBe('ok');

    const lines = cli(['inspect', '--json', image]).trim().split('\n').map((line) => JSON.parse(line) as { type: string; result?: { inspection: Inspection } });
    const inspection = lines.find((line) => line.type === 'result')?.result?.inspection;
    expect(inspection?.table).toBe('mbr');
    expect(inspection?.partitions.map((p) => p.start)).toEqual([c.first]);
    expect(inspection?.loaders.filter((l) => l.valid).map((l) => l.kind)).toEqual(c.kinds);
    expect(inspection?.consistentBoards).toContain(c.board);

    const human = cli(['inspect', image]);
    expect(human).toContain(`loader ${c.kinds[0]} at byte`);
    expect(human).toMatch(new RegExp(`board family: [^\\n]*${c.family.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  });

  it('narrows sunxi boards by the device tree named in the SPL', async () => {
    const image = join(work, 'pcduino3-only.img');
    blankMbrImage(image, 8 * MiB, 1 * MiB);
    await install('pcduino3', image, fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot/Linksprite_pcDuino3'));
    const inspection = (JSON.parse(cli(['inspect', '--json', image]).trim().split('\n').pop() ?? '{}') as { result: { inspection: Inspection } }).result.inspection;
    expect(inspection.consistentBoards).toEqual(['pcduino3']);
    expect(inspection.loaders[0]?.detail).toMatch(/checksum 0x[0-9a-f]+ verified, device tree sun7i-a20-pcduino3/);
  });

  it('reports nothing on a blank card', () => {
    const image = join(work, 'blank.img');
    blankMbrImage(image, 8 * MiB, 1 * MiB);
    const human = cli(['inspect', image]);
    expect(human).toContain('no loader found');
    expect(human).toContain('consistent with: no known board');
  });
});
