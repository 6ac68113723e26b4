import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BuildRecipe, JobEvent } from '../../../electron/engine/api';
import { inspectTarget } from '../../../electron/engine/boards/inspect';
import { buildImage } from '../../../electron/engine/compose/compose';
import { createJobContext } from '../../../electron/engine/job';
import { runRequest } from '../../../electron/engine/operations';
import { debPath, fixturePath } from '../../helpers/fixtures';
import { describeWith } from '../../helpers/needs';
import { makeRootfs, walk, KERNEL_VERSION } from './fixture';
import { readBytesAt } from '../../helpers/bytes';

const MIB = 1024 * 1024;
const ENV = { SOURCE_DATE_EPOCH: '1700000000', CARDSMITH_SEED: 'cardsmith-test' };
let dir = '';
let rootfs = { folder: '', tarball: '' };
let firmware = '';

interface SfdiskTable {
  partitiontable: { label: string; id: string; partitions: { start: number; size: number; type: string; bootable?: boolean; uuid?: string }[] };
}
const sfdisk = (image: string): SfdiskTable['partitiontable'] => (JSON.parse(execFileSync('sfdisk', ['--json', image]).toString()) as SfdiskTable).partitiontable;

async function build(recipe: Omit<BuildRecipe, 'rootSize' | 'table'> & Partial<Pick<BuildRecipe, 'rootSize' | 'table'>>): Promise<{ result: unknown; events: JobEvent[] }> {
  const events: JobEvent[] = [];
  Object.assign(process.env, ENV);
  const result = await runRequest({ op: 'build', recipe }, (event) => events.push(event));
  return { result, events };
}
function errorOf(events: readonly JobEvent[]): Extract<JobEvent, { type: 'error' }>['error'] | undefined {
  const last = events.find((e) => e.type === 'error');
  return last?.type === 'error' ? last.error : undefined;
}

/** Attaches the byte range of a partition read-only, runs `body` with the loop device, detaches. */
function withPartition<T>(image: string, start: number, size: number, body: (device: string) => T): T {
  const device = execFileSync('losetup', ['--find', '--show', '--read-only', '--offset', String(start), '--sizelimit', String(size), image]).toString().trim();
  try {
    return body(device);
  } finally {
    execFileSync('losetup', ['--detach', device]);
  }
}

function checkFat(image: string, start: number, size: number): void {
  withPartition(image, start, size, (device) => execFileSync('fsck.fat', ['-n', device]));
}

/** e2fsck -fn, then a read-only kernel mount whose tree must equal the source folder's. */
function checkExt4Tree(image: string, start: number, size: number, sourceFolder: string): void {
  withPartition(image, start, size, (device) => {
    execFileSync('e2fsck', ['-fn', device]);
    const mnt = mkdtempSync(join(tmpdir(), 'cardsmith-mnt-'));
    execFileSync('mount', ['-t', 'ext4', '-o', 'ro', device, mnt]);
    try {
      expect(walk(mnt)).toEqual(walk(sourceFolder));
    } finally {
      execFileSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });
}

function mtypeAt(image: string, offset: number, path: string): Buffer {
  return execFileSync('mcopy', ['-n', '-i', `${image}@@${offset}`, `::${path}`, '-'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' }, maxBuffer: 64 * MIB });
}

describeWith(
  ['root', 'tool:tar', 'tool:sfdisk', 'tool:fsck.fat', 'tool:e2fsck', 'tool:mcopy', 'tool:bmaptool', 'tool:losetup', `file:${fixturePath('busybox-static_arm64', 'bin', 'busybox')}`, `file:${debPath('u-boot-sunxi_armhf')}`, `file:${debPath('u-boot-rockchip_arm64')}`],
  'cardsmith build',
  () => {
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'cardsmith-build-'));
      rootfs = makeRootfs(dir);
      firmware = join(dir, 'firmware');
      mkdirSync(firmware);
      for (const name of ['bootcode.bin', 'start.elf', 'fixup.dat']) writeFileSync(join(firmware, name), createHash('sha256').update(name).digest());
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('Raspberry Pi: firmware, config.txt, U-Boot, extlinux; clean FAT and ext4; the mounted tree equals the tarball; bmaptool accepts the bmap', async () => {
      const out = join(dir, 'rpi');
      mkdirSync(out);
      const image = join(out, 'card.img');
      const uboot = fixturePath('u-boot-rpi_arm64', 'usr/lib/u-boot/rpi_3');
      const { result, events } = await build({ board: 'rpi-3-b', rootfs: rootfs.tarball, bootFiles: firmware, loaderFrom: uboot, output: image, bmap: join(out, 'card.bmap') });
      expect(errorOf(events)).toBeUndefined();
      expect(readdirSync(out).sort()).toEqual(['card.bmap', 'card.img']);
      const table = sfdisk(image);
      expect(table.label).toBe('dos');
      expect(table.partitions.map((p) => [p.type, p.bootable === true])).toEqual([['e', true], ['83', false]]);
      const [boot, root] = table.partitions.map((p) => ({ start: p.start * 512, size: p.size * 512 }));
      checkFat(image, boot!.start, boot!.size);
      expect(mtypeAt(image, boot!.start, '/config.txt').toString()).toMatch(/^arm_64bit=1\nkernel=u-boot\.bin\nenable_uart=1$/m);
      expect(mtypeAt(image, boot!.start, '/u-boot.bin').equals(readFileSync(join(uboot, 'u-boot.bin')))).toBe(true);
      expect(mtypeAt(image, boot!.start, '/bootcode.bin').equals(readFileSync(join(firmware, 'bootcode.bin')))).toBe(true);
      expect(mtypeAt(image, boot!.start, `/vmlinuz-${KERNEL_VERSION}`).equals(readFileSync(join(rootfs.folder, 'boot', `vmlinuz-${KERNEL_VERSION}`)))).toBe(true);
      expect(mtypeAt(image, boot!.start, '/bcm2837-rpi-3-b.dtb').length).toBe(20_000);
      const conf = mtypeAt(image, boot!.start, '/extlinux/extlinux.conf').toString();
      expect(conf).toContain(`append root=PARTUUID=${table.id.slice(2)}-02 rootwait rw console=ttyS1,115200`);
      expect(conf).toContain(`initrd /initrd.img-${KERNEL_VERSION}`);
      checkExt4Tree(image, root!.start, root!.size, rootfs.folder);
      const copy = join(dir, 'rpi-copy.img');
      execFileSync('bmaptool', ['copy', '--bmap', join(out, 'card.bmap'), image, copy], { stdio: 'ignore' });
      expect(execFileSync('cmp', [image, copy]).length).toBe(0);
      rmSync(copy);
      expect(result).toMatchObject({ output: image, sizeBytes: readFileSync(image).length });
    });

    it('Allwinner (loader from the Debian .deb): the loader sits at 8 KiB and inspect recognises the board', async () => {
      const image = join(dir, 'opi.img');
      const { events } = await build({ board: 'orangepi-plus', rootfs: rootfs.tarball, loaderFrom: debPath('u-boot-sunxi_armhf'), output: image });
      expect(errorOf(events)).toBeUndefined();
      const loader = readFileSync(fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot/orangepi_plus/u-boot-sunxi-with-spl.bin'));
      expect(readBytesAt(image, 8192, loader.length).equals(loader)).toBe(true);
      const table = sfdisk(image);
      // The boot partition starts at the first whole MiB past the loader (sunxi: 1 MiB).
      const bootStart = table.partitions[0]!.start * 512;
      expect(bootStart % MIB).toBe(0);
      expect(bootStart).toBeGreaterThanOrEqual(8192 + loader.length);
      const conf = mtypeAt(image, bootStart, '/extlinux/extlinux.conf').toString();
      expect(conf).toContain('fdt /dtbs/sun8i-h3-orangepi-plus.dtb');
      expect(conf).toContain('console=ttyS0,115200');
      const inspection = await inspectTarget(image);
      expect(inspection.partitions.map((p) => p.filesystem)).toEqual(['vfat', 'ext4']);
      expect(inspection.consistentBoards).toContain('orangepi-plus');
    });

    it('Rockchip on GPT: idbloader at 32 KiB, u-boot.itb at 8 MiB, partitions from 16 MiB, clean filesystems', async () => {
      const image = join(dir, 'rock64.img');
      const recipe: BuildRecipe = { board: 'rock64', rootfs: rootfs.tarball, loaderFrom: debPath('u-boot-rockchip_arm64'), output: image, rootSize: { mode: 'minimal' }, table: 'gpt' };
      const ctx = createJobContext(() => undefined, new AbortController().signal);
      const result = await buildImage(recipe, ctx, { seed: 'gpt-test', timestamp: 1700000000, table: 'gpt' });
      const folder = fixturePath('u-boot-rockchip_arm64', 'usr/lib/u-boot/rock64-rk3328');
      const idb = readFileSync(join(folder, 'idbloader.img'));
      const itb = readFileSync(join(folder, 'u-boot.itb'));
      expect(readBytesAt(image, 32768, idb.length).equals(idb)).toBe(true);
      expect(readBytesAt(image, 8 * MIB, itb.length).equals(itb)).toBe(true);
      const table = sfdisk(image);
      expect(table.label).toBe('gpt');
      expect(table.partitions[0]!.start * 512).toBe(16 * MIB);
      execFileSync('sfdisk', ['--verify', image]);
      const [boot, root] = table.partitions.map((p) => ({ start: p.start * 512, size: p.size * 512 }));
      checkFat(image, boot!.start, boot!.size);
      checkExt4Tree(image, root!.start, root!.size, rootfs.folder);
      expect(result.dataBytes).toBeGreaterThan(0);
      expect(result.freeBytes).toBeGreaterThan(0);
      const inspection = await inspectTarget(image);
      expect(inspection.consistentBoards).toContain('rock64');
    });

    it('planBuild foretells the built card: size, table, partitions and loader writes, writing nothing', async () => {
      const out = join(dir, 'plan');
      mkdirSync(out);
      const recipe = { board: 'orangepi-plus', rootfs: rootfs.tarball, loaderFrom: debPath('u-boot-sunxi_armhf'), rootSize: { mode: 'fixed' as const, bytes: 96 * MIB } };
      Object.assign(process.env, ENV);
      const planned = await runRequest<'planBuild'>({ op: 'planBuild', recipe }, () => undefined);
      expect(readdirSync(out)).toEqual([]);
      const image = join(out, 'card.img');
      const { result, events } = await build({ ...recipe, output: image });
      expect(errorOf(events)).toBeUndefined();
      const inspection = await inspectTarget(image);
      expect(planned).toMatchObject({ sizeBytes: (result as { sizeBytes: number }).sizeBytes, table: 'mbr' });
      expect(planned?.partitions.map((p) => [p.start, p.size, p.type, p.filesystem])).toEqual([
        [inspection.partitions[0]!.start, inspection.partitions[0]!.size, inspection.partitions[0]!.type, 'vfat (FAT16)'],
        [inspection.partitions[1]!.start, 96 * MIB, inspection.partitions[1]!.type, 'ext4'],
      ]);
      expect(planned?.loaderWrites).toEqual([{ file: 'u-boot-sunxi-with-spl.bin', offset: 8192, length: expect.any(Number) }]);
      expect(inspection.loaders.map((l) => l.offset)).toContain(8192);
    });

    it('builds from a folder as well: the mounted root equals the folder', async () => {
      const image = join(dir, 'from-folder.img');
      const { events } = await build({ board: 'qemu-virt-aarch64', rootfs: rootfs.folder, output: image });
      expect(errorOf(events)).toBeUndefined();
      const table = sfdisk(image);
      const [boot, root] = table.partitions.map((p) => ({ start: p.start * 512, size: p.size * 512 }));
      checkFat(image, boot!.start, boot!.size);
      // QEMU hands U-Boot its own device tree, so there is no fdt line.
      expect(mtypeAt(image, boot!.start, '/extlinux/extlinux.conf').toString()).not.toContain('fdt ');
      checkExt4Tree(image, root!.start, root!.size, rootfs.folder);
      // A minimal root keeps its headroom free for users: no blocks reserved for root.
      const header = withPartition(image, root!.start, root!.size, (device) => execFileSync('dumpe2fs', ['-h', device], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
      expect(header).toMatch(/^Reserved block count:\s+0$/m);
      expect(Number(/^Free blocks:\s+(\d+)$/m.exec(header)?.[1])).toBeGreaterThan(0);
      rmSync(image);
    });

    it('an empty rootfs builds when the kernel comes from --kernel', async () => {
      const empty = join(dir, 'empty');
      mkdirSync(empty);
      const tarball = join(dir, 'empty.tar');
      execFileSync('tar', ['-cf', tarball, '-C', empty, '.']);
      const kernel = join(rootfs.folder, 'boot', `vmlinuz-${KERNEL_VERSION}`);
      const image = join(dir, 'empty.img');
      const { events } = await build({ board: 'qemu-virt-armv7', rootfs: tarball, kernel, output: image });
      expect(errorOf(events)).toBeUndefined();
      const [boot, root] = sfdisk(image).partitions.map((p) => ({ start: p.start * 512, size: p.size * 512 }));
      expect(mtypeAt(image, boot!.start, `/vmlinuz-${KERNEL_VERSION}`).equals(readFileSync(kernel))).toBe(true);
      expect(mtypeAt(image, boot!.start, '/extlinux/extlinux.conf').toString()).not.toContain('initrd');
      checkExt4Tree(image, root!.start, root!.size, empty);
      rmSync(image);
    });

    it("reports a '..' name and a file replaced by a directory in the result and as warnings", async () => {
      const tarball = join(dir, 'odd.tar');
      const script = [
        'import io, tarfile',
        `t = tarfile.open(${JSON.stringify(tarball)}, 'w', format=tarfile.PAX_FORMAT)`,
        'def add(name, data=None, kind=tarfile.REGTYPE):',
        '    info = tarfile.TarInfo(name); info.type = kind; info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644',
        '    info.size = len(data) if data else 0',
        '    t.addfile(info, io.BytesIO(data) if data else None)',
        "add('etc', kind=tarfile.DIRTYPE)",
        "add('../etc/escaped', b'x')",
        "add('etc/conf', b'a file')",
        "add('etc/conf', kind=tarfile.DIRTYPE)",
        't.close()',
      ].join('\n');
      execFileSync('python3', ['-c', script]);
      const kernel = join(rootfs.folder, 'boot', `vmlinuz-${KERNEL_VERSION}`);
      const image = join(dir, 'odd.img');
      const { result, events } = await build({ board: 'qemu-virt-armv7', rootfs: tarball, kernel, output: image });
      expect(errorOf(events)).toBeUndefined();
      const warnings = (result as { warnings?: { count: number; messages: string[] } }).warnings;
      expect(warnings?.count).toBe(2);
      expect(warnings?.messages).toEqual([expect.stringContaining('"../etc/escaped"'), expect.stringMatching(/^"etc\/conf": the file .* replaced by the directory/)]);
      const logged = events.flatMap((e) => (e.type === 'log' && e.level === 'warn' ? [e.message] : []));
      expect(logged).toEqual(warnings?.messages.map((message) => `${tarball}: ${message}`));
      rmSync(image);
    });

    it('is reproducible: same inputs, seed and SOURCE_DATE_EPOCH give the same bytes', async () => {
      const hashes: string[] = [];
      for (const name of ['a.img', 'b.img']) {
        const image = join(dir, name);
        const { events } = await build({ board: 'rock64', rootfs: rootfs.tarball, loaderFrom: debPath('u-boot-rockchip_arm64'), output: image, bmap: `${image}.bmap` });
        expect(errorOf(events)).toBeUndefined();
        hashes.push(createHash('sha256').update(readFileSync(image)).update(readFileSync(`${image}.bmap`)).digest('hex'));
        rmSync(image);
      }
      expect(hashes[0]).toBe(hashes[1]);
    });

    // gz is decoded from a stream; zst and xz straight into the reader's buffers (direct-reader.ts).
    for (const [format, tool] of [['gz', 'gzip'], ['zst', 'zstd'], ['xz', 'xz']] as const) {
      it(`a truncated .tar.${format} fails as source-corrupt and leaves no file behind`, async () => {
        const out = join(dir, `truncated-${format}`);
        mkdirSync(out);
        const cut = join(out, `cut.tar.${format}`);
        writeFileSync(cut, execFileSync(tool, ['-c'], { input: gunzipSync(readFileSync(rootfs.tarball)), maxBuffer: 256 << 20 }));
        truncateSync(cut, Math.floor(readFileSync(cut).length / 2));
        const { events } = await build({ board: 'rock64', rootfs: cut, loaderFrom: debPath('u-boot-rockchip_arm64'), output: join(out, 'card.img'), bmap: join(out, 'card.bmap') });
        expect(errorOf(events)).toMatchObject({ cause: 'source-corrupt', details: { format } });
        expect(readdirSync(out)).toEqual([`cut.tar.${format}`]);
      });
    }

    it('a rootfs larger than --root-size fails stating needed vs given, before any write', async () => {
      const out = join(dir, 'small');
      mkdirSync(out);
      const { events } = await build({ board: 'rock64', rootfs: rootfs.tarball, loaderFrom: debPath('u-boot-rockchip_arm64'), output: join(out, 'card.img'), rootSize: { mode: 'fixed', bytes: 2 * MIB } });
      const error = errorOf(events);
      expect(error?.cause).toBe('too-small');
      expect(error?.details).toMatchObject({ givenBytes: 2 * MIB });
      expect(Number(error?.details?.neededBytes)).toBeGreaterThan(2 * MIB);
      expect(error?.hint).toMatch(/--root-size minimal, or at least \d+M/);
      expect(readdirSync(out)).toEqual([]);
    });

    it('not enough free space fails as no-space before any write', async () => {
      const out = join(dir, 'tiny-fs');
      mkdirSync(out);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', out]);
      try {
        const { events } = await build({ board: 'rock64', rootfs: rootfs.tarball, loaderFrom: debPath('u-boot-rockchip_arm64'), output: join(out, 'card.img') });
        const error = errorOf(events);
        expect(error?.cause).toBe('no-space');
        expect(Number(error?.details?.neededBytes)).toBeGreaterThan(Number(error?.details?.availableBytes));
        expect(readdirSync(out)).toEqual([]);
      } finally {
        spawnSync('umount', [out]);
      }
    });

    it('through the CLI: --json events end in a result, and a bad --root-size exits non-zero with needed vs given', () => {
      const repo = join(__dirname, '..', '..', '..');
      execFileSync(process.execPath, [join(repo, 'scripts/build.mjs'), 'cli'], { cwd: repo, stdio: 'ignore' });
      const cli = (args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [join(repo, 'bin/cardsmith.cjs'), 'build', ...args], { encoding: 'utf8', env: { ...process.env, ...ENV } });
      const out = join(dir, 'cli');
      mkdirSync(out);
      const common = ['--board', 'rock64', '--rootfs', rootfs.tarball, '--loader-from', debPath('u-boot-rockchip_arm64')];
      const ok = cli([...common, '-o', join(out, 'card.img'), '--bmap', join(out, 'card.bmap'), '--root-size', 'minimal+8M', '--json']);
      expect(ok.status).toBe(0);
      const last = JSON.parse(String(ok.stdout).trim().split('\n').pop()!) as { type: string; result: { output: string; dataBytes: number } };
      expect(last).toMatchObject({ type: 'result', result: { output: join(out, 'card.img') } });
      const small = cli([...common, '-o', join(out, 'small.img'), '--root-size', '3M']);
      expect(small.status).not.toBe(0);
      expect(String(small.stderr)).toMatch(/needs \d+ bytes but --root-size gives 3145728/);
      expect(readdirSync(out).sort()).toEqual(['card.bmap', 'card.img']);
      // `cardsmith plan` prints the card the same recipe makes, writing nothing.
      const plan = spawnSync(process.execPath, [join(repo, 'bin/cardsmith.cjs'), 'plan', ...common, '--root-size', 'minimal+8M'], { encoding: 'utf8', env: { ...process.env, ...ENV } });
      expect(plan.status).toBe(0);
      const built = sfdisk(join(out, 'card.img'));
      for (const [i, p] of built.partitions.entries()) expect(plan.stdout).toContain(`part ${i + 1}: ${p.start * 512}..${(p.start + p.size) * 512} `);
      expect(plan.stdout).toMatch(/loader idbloader\.img at byte 32768/);
      expect(readdirSync(out).sort()).toEqual(['card.bmap', 'card.img']);
    });

    it('refuses to build onto anything but a regular file', async () => {
      const before = readdirSync('/dev').length;
      const { events } = await build({ board: 'rock64', rootfs: rootfs.tarball, loaderFrom: debPath('u-boot-rockchip_arm64'), output: '/dev/null' });
      expect(errorOf(events)?.message).toMatch(/\/dev\/null is not a regular file/);
      expect(readdirSync('/dev').length).toBe(before);
    });

    it('refuses fill for an image file and an unknown board, naming them', async () => {
      const fill = await build({ board: 'rock64', rootfs: rootfs.tarball, output: join(dir, 'fill.img'), rootSize: { mode: 'fill' } });
      expect(errorOf(fill.events)?.cause).toBe('bad-input');
      const unknown = await build({ board: 'rock65', rootfs: rootfs.tarball, output: join(dir, 'x.img') });
      expect(errorOf(unknown.events)?.message).toMatch(/rock64/);
      expect(existsSync(join(dir, 'fill.img')) || existsSync(join(dir, 'x.img'))).toBe(false);
    });
  },
);
