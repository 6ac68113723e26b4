/**
 * `inspect`'s "consistent with" on cards carrying real Debian loaders: exactly the boards whose
 * every expected header is at its offset, of the expected kind, naming the board's device tree
 * and SoC — not every board of the family.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { listBoards } from '../../../electron/engine/boards/db';
import { inspectTarget } from '../../../electron/engine/boards/inspect';
import { debianFolderOf } from '../../../electron/engine/boards/loader-source';
import { fixturePath, hasFixture } from '../../helpers/fixtures';
import { describeWith } from '../../helpers/needs';
import { blankMbrImage, install, MiB } from './images';

const work = mkdtempSync(join(tmpdir(), 'cardsmith-consistent-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cases = [
  { board: 'rock64', pkg: 'u-boot-rockchip_arm64', dir: 'rock64-rk3328', boards: ['rock64'] },
  // U-Boot at 256 KiB: no other Rockchip board puts it there, and its idbloader alone matches none.
  { board: 'puma-rk3399', pkg: 'u-boot-rockchip_arm64', dir: 'puma-rk3399', boards: ['puma-rk3399'] },
  // A legacy uImage at 8 MiB: the FIT boards do not match it, and rk3288 matches no FIT.
  { board: 'firefly-rk3288', pkg: 'u-boot-rockchip_armhf', dir: 'firefly-rk3288', boards: ['firefly-rk3288'] },
  // i.MX53 and i.MX6 u-boot-dtb.imx differ in the registers their DCDs write.
  { board: 'mx53loco', pkg: 'u-boot-imx_armhf', dir: 'mx53loco', boards: ['mx53loco'] },
  { board: 'sabrelite', pkg: 'u-boot-imx_armhf', dir: 'mx6qsabrelite', boards: ['sabrelite'] },
  // An SPL without a DCD is not a sabrelite u-boot-dtb.imx; the FIT names the wandboard trees.
  { board: 'wandboard', pkg: 'u-boot-imx_armhf', dir: 'wandboard', boards: ['wandboard'] },
  { board: 'beaglebone-black', pkg: 'u-boot-omap_armhf', dir: 'am335x_evm', boards: ['beaglebone-black', 'beaglebone', 'beaglebone-green', 'pocketbeagle'] },
  { board: 'pine64-plus', pkg: 'u-boot-sunxi_arm64', dir: 'pine64_plus', boards: ['pine64-plus'] },
] as const;

describeWith(cases.map((c) => `file:${fixturePath(c.pkg, '.complete')}` as const), 'inspect: consistent boards', () => {
  it.each(cases.map((c) => [c.board, c] as const))('%s', async (_id, c) => {
    const image = join(work, `${c.board}.img`);
    blankMbrImage(image, 32 * MiB, 16 * MiB);
    const outcome = await install(c.board, image, fixturePath(c.pkg, 'usr/lib/u-boot', c.dir));
    expect(outcome.ok ? 'ok' : outcome.error.message).toBe('ok');
    const inspection = await inspectTarget(image);
    expect(inspection.loaders.every((l) => l.valid), JSON.stringify(inspection.loaders)).toBe(true);
    expect(inspection.consistentBoards).toEqual(c.boards);
  });
});

/** Boards whose whole loader Debian ships, with its files unpacked in the fixtures. */
const debianBoards = listBoards().flatMap((board) => {
  const folder = debianFolderOf(board);
  const pkg = folder ? `${folder.package}_${folder.arch}` : '';
  return board.bootMethod === 'raw-offset' && board.loader.kind === 'debian' && folder && hasFixture(pkg) ? [{ board: board.id, dir: fixturePath(pkg, folder.dir) }] : [];
});

describeWith([`file:${fixturePath('u-boot-sunxi_armhf', '.complete')}`], 'inspect: every board is consistent with its own Debian loader', () => {
  it.each(debianBoards.map((b) => [b.board, b] as const))('%s', async (_id, b) => {
    const image = join(work, `own-${b.board}.img`);
    blankMbrImage(image, 32 * MiB, 16 * MiB);
    const outcome = await install(b.board, image, b.dir);
    expect(outcome.ok ? 'ok' : outcome.error.message).toBe('ok');
    const inspection = await inspectTarget(image);
    expect(inspection.consistentBoards, JSON.stringify(inspection.loaders)).toContain(b.board);
    rmSync(image);
  });
});
