/**
 * Debian parity: for every board whose loader Debian bookworm ships, installing into a blank MBR
 * image gives exactly the bytes Debian's own tools give on a copy of the same image — the
 * u-boot-install-sunxi / u-boot-install-rockchip scripts from the packages (TARGET pointed at the
 * unpacked fixture folder), or the dd commands of README.Debian for i.MX and OMAP.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { listBoards, findBoard } from '../../../electron/engine/boards/db';
import { checkEgon } from '../../../electron/engine/boards/detect';
import type { Board } from '../../../electron/engine/boards/model';
import { debPath, fixturePath } from '../../helpers/fixtures';
import { describeWith } from '../../helpers/needs';
import { blankMbrImage, DISK_SIGNATURE, install, MiB } from './images';

const work = mkdtempSync(join(tmpdir(), 'cardsmith-parity-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const IMAGE_BYTES = 24 * MiB;

type Oracle = (image: string, dir: string, board: Board) => void;

const dd = (image: string, args: readonly string[]): void => {
  execFileSync('dd', ['conv=fsync,notrunc', `of=${image}`, ...args], { stdio: 'ignore' });
};

/** The Debian tool for each package, written from the package's script or README, not from the board database. */
const ORACLES: Record<string, Oracle> = {
  'u-boot-sunxi_armhf': (image, dir) => runScript('u-boot-sunxi_armhf', 'u-boot-install-sunxi', image, { TARGET: dir }),
  'u-boot-sunxi_arm64': (image, dir) => runScript('u-boot-sunxi_arm64', 'u-boot-install-sunxi', image, { TARGET: dir }),
  // The script's own per-model overrides (puma: UBOOT_OFFSET=512, firefly-rk3288: u-boot.img) apply when it
  // detects the model itself; with TARGET given they are passed the same way.
  'u-boot-rockchip_arm64': (image, dir, board) =>
    runScript('u-boot-rockchip_arm64', 'u-boot-install-rockchip', image, { TARGET: dir, ...(board.id === 'puma-rk3399' ? { UBOOT_OFFSET: '512' } : {}) }),
  'u-boot-rockchip_armhf': (image, dir) => runScript('u-boot-rockchip_armhf', 'u-boot-install-rockchip', image, { TARGET: dir, UBOOT_IMAGE: 'u-boot.img' }),
  // README.Debian: SPL bs=1k seek=1, u-boot.img bs=1k seek=69; mx53loco u-boot(.dtb).imx bs=1024 seek=1.
  'u-boot-imx_armhf': (image, dir, board) => {
    if (board.loader.kind === 'debian' && board.loader.files.includes('SPL')) {
      dd(image, [`if=${dir}/SPL`, 'bs=1k', 'seek=1']);
      dd(image, [`if=${dir}/u-boot.img`, 'bs=1k', 'seek=69']);
    } else dd(image, ['bs=1024', `if=${dir}/u-boot-dtb.imx`, 'seek=1']);
  },
  // README.Debian: MLO seek=256, u-boot.img seek=768 (dd's default 512-byte blocks).
  'u-boot-omap_armhf': (image, dir) => {
    dd(image, ['seek=256', `if=${dir}/MLO`]);
    dd(image, ['seek=768', `if=${dir}/u-boot.img`]);
  },
};

function runScript(pkg: string, script: string, image: string, env: Record<string, string>): void {
  execFileSync('sh', [fixturePath(pkg, 'usr/bin', script), image], { env: { ...process.env, ...env }, stdio: 'ignore' });
}

const debianBoards = listBoards().filter((board) => board.bootMethod === 'raw-offset' && board.loader.kind === 'debian');
const byPackage = new Map<string, Board[]>();
for (const board of debianBoards) {
  if (board.loader.kind !== 'debian') continue;
  const pkg = `${board.loader.package}_${board.loader.arch}`;
  byPackage.set(pkg, [...(byPackage.get(pkg) ?? []), board]);
}

it('covers every Debian-shipped raw-offset board with an oracle', () => {
  expect(debianBoards.length).toBeGreaterThanOrEqual(40);
  for (const pkg of byPackage.keys()) expect(ORACLES[pkg], pkg).toBeDefined();
});

function sameBytes(a: string, b: string): { equal: boolean; firstDifference: number } {
  const x = readFileSync(a);
  const y = readFileSync(b);
  if (x.equals(y)) return { equal: true, firstDifference: -1 };
  let at = 0;
  while (at < Math.min(x.length, y.length) && x[at] === y[at]) at++;
  return { equal: false, firstDifference: at };
}

for (const [pkg, boards] of byPackage) {
  const oracle = ORACLES[pkg]!;
  describeWith(['tool:dd', 'tool:mkimage', `file:${fixturePath(pkg, '.complete')}`], `Debian parity: ${pkg}`, () => {
    it.each(boards.map((board) => [board.id, board] as const))('%s matches Debian byte for byte', async (_id, board) => {
      if (board.loader.kind !== 'debian') throw new Error('unreachable');
      const dir = fixturePath(pkg, board.loader.dir);
      const ours = join(work, `${board.id}.img`);
      const theirs = join(work, `${board.id}.debian.img`);
      blankMbrImage(ours, IMAGE_BYTES, board.firstPartitionMinStart);
      copyFileSync(ours, theirs);
      const outcome = await install(board.id, ours, dir);
      expect(outcome.ok ? 'ok' : outcome.error.message).toBe('ok');
      oracle(theirs, dir, board);
      expect(sameBytes(ours, theirs)).toEqual({ equal: true, firstDifference: -1 });
      const image = readFileSync(ours);
      expect(image.readUInt32LE(440)).toBe(DISK_SIGNATURE);
      if (board.family.startsWith('allwinner')) {
        const egon = checkEgon(new Uint8Array(image.subarray(8192, 8192 + 64 * 1024)), 8192);
        expect(egon?.valid, egon?.detail).toBe(true);
      }
      rmSync(ours);
      rmSync(theirs);
    });

    it(`installs from the .deb itself (${boards[0]!.id}) with the same result`, async () => {
      const board = boards[0]!;
      if (board.loader.kind !== 'debian') throw new Error('unreachable');
      const ours = join(work, `${board.id}.deb.img`);
      const theirs = join(work, `${board.id}.deb.debian.img`);
      blankMbrImage(ours, IMAGE_BYTES, board.firstPartitionMinStart);
      copyFileSync(ours, theirs);
      const outcome = await install(board.id, ours, debPath(pkg));
      expect(outcome.ok ? 'ok' : outcome.error.message).toBe('ok');
      oracle(theirs, fixturePath(pkg, board.loader.dir), board);
      expect(sameBytes(ours, theirs).equal).toBe(true);
    });
  });
}

/** Boards whose signed blobs come from the vendor: Debian ships only U-Boot proper; the dd recipes are the oracle. */
describeWith(['tool:dd', `file:${fixturePath('u-boot-amlogic_arm64', '.complete')}`, `file:${fixturePath('u-boot-exynos_armhf', '.complete')}`], 'vendor-blob boards follow their documented dd recipes', () => {
  const pattern = (length: number, seed: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff));

  it('Amlogic: sd.bin bytes 0..439 into sector 0 and 512.. from sector 1, keeping the disk signature and table', async () => {
    const board = findBoard('libretech-cc');
    const folder = join(work, 'amlogic');
    mkdirSync(folder, { recursive: true });
    // Stand-in for the signed image: a 512-byte boot sector then Debian's real BL33 u-boot.bin.
    writeFileSync(join(folder, 'u-boot.bin.sd.bin'), Buffer.concat([pattern(512, 7), readFileSync(fixturePath('u-boot-amlogic_arm64', 'usr/lib/u-boot/libretech-cc/u-boot.bin'))]));
    const ours = join(work, 'amlogic.img');
    const theirs = join(work, 'amlogic.debian.img');
    blankMbrImage(ours, IMAGE_BYTES, board.firstPartitionMinStart);
    copyFileSync(ours, theirs);
    const before = readFileSync(ours).subarray(440, 512);
    const outcome = await install(board.id, ours, folder);
    expect(outcome.ok ? 'ok' : outcome.error.message).toBe('ok');
    const sd = join(folder, 'u-boot.bin.sd.bin');
    dd(theirs, [`if=${sd}`, 'bs=512', 'skip=1', 'seek=1']);
    dd(theirs, [`if=${sd}`, 'bs=1', 'count=440']);
    expect(sameBytes(ours, theirs).equal).toBe(true);
    expect(readFileSync(ours).subarray(440, 512).equals(before)).toBe(true);
  });

  it('Exynos5422: bl1 @ sector 1, bl2 @ 31, Debian u-boot.bin @ 63, tzsw @ 2111 (README.odroid)', async () => {
    const board = findBoard('odroid-xu4');
    const folder = join(work, 'exynos');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'bl1.bin.hardkernel'), pattern(15360, 1));
    writeFileSync(join(folder, 'bl2.bin.hardkernel.720k_uboot'), pattern(14592, 2));
    writeFileSync(join(folder, 'tzsw.bin.hardkernel'), pattern(163840, 3));
    copyFileSync(fixturePath('u-boot-exynos_armhf', 'usr/lib/u-boot/odroid-xu3/u-boot.bin'), join(folder, 'u-boot.bin'));
    const ours = join(work, 'exynos.img');
    const theirs = join(work, 'exynos.debian.img');
    blankMbrImage(ours, IMAGE_BYTES, board.firstPartitionMinStart);
    copyFileSync(ours, theirs);
    const outcome = await install(board.id, ours, folder);
    expect(outcome.ok ? 'ok' : outcome.error.message).toBe('ok');
    dd(theirs, [`if=${folder}/bl1.bin.hardkernel`, 'seek=1']);
    dd(theirs, [`if=${folder}/bl2.bin.hardkernel.720k_uboot`, 'seek=31']);
    dd(theirs, [`if=${folder}/u-boot.bin`, 'seek=63']);
    dd(theirs, [`if=${folder}/tzsw.bin.hardkernel`, 'seek=2111']);
    expect(sameBytes(ours, theirs).equal).toBe(true);
  });
});
