// Issue 7, "Boot proof": cards made only by Cardsmith (build → flash to a loop device → verify →
// copy the card to a file) boot through the card's own U-Boot in QEMU on three machines; a card
// built to fill a larger card boots with its root at card size; the orangepi-pc card with its
// loader moved by 1 KiB or removed does not boot; and the eGON header is checked on the host,
// since QEMU does not. Console logs are kept under test-artifacts/boot/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWith, type Need } from '../helpers/needs';
import { bootCard } from './boot-card';
import { copySparse, readAt } from './card-file';
import { inspectCard, makeCard, CARDSMITH_CLI, type Card } from './cards';
import { checkEgon, H3_SPL_MAX_BYTES, H3_SPL_OFFSET } from './egon';
import { dtbPath, MACHINES, NANOPI_NEO_LOADER, U_BOOT_QEMU_ARM64, type Machine } from './machines';
import { assertMilestonesInOrder, outcomeText, type BootRun } from './qemu';
import { BOOT_MARKER, parseBootMarker } from './rootfs';

const CARD_BYTES = 256 << 20;
const FILL_CARD_BYTES = 512 << 20;
const SPL_FILE = join(NANOPI_NEO_LOADER, 'u-boot-sunxi-with-spl.bin');

const scratch = mkdtempSync(join(tmpdir(), 'cardsmith-boot-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function workFor(name: string): string {
  const work = join(scratch, name);
  mkdirSync(work, { recursive: true });
  return work;
}

/** Partitions as sfdisk (the independent oracle) reads them: start and size in bytes. */
function partitionsOf(card: string): readonly { readonly startBytes: number; readonly sizeBytes: number }[] {
  const table = JSON.parse(execFileSync('sfdisk', ['--json', card], { encoding: 'utf8' })) as {
    partitiontable: { sectorsize?: number; partitions: { start: number; size: number }[] };
  };
  const sector = table.partitiontable.sectorsize ?? 512;
  return table.partitiontable.partitions.map((p) => ({ startBytes: p.start * sector, sizeBytes: p.size * sector }));
}

function markerFor(card: Card): RegExp {
  return new RegExp(`${BOOT_MARKER} nonce=${card.nonce} `);
}

function needsOf(machine: Machine): Need[] {
  const dtb = dtbPath(machine);
  return [`tool:${machine.qemu}`, `file:${machine.busybox}`, `file:${machine.kernelRoot}/boot`, ...(dtb ? [`file:${dtb}` as const] : [])];
}

/** Asserts a full boot: marker seen, milestones in order, guest arch and root device. */
function expectBooted(machine: Machine, card: Card, run: BootRun) {
  expect(run.outcome.kind, outcomeText(run)).toBe('marker');
  assertMilestonesInOrder(run, machine.milestones);
  const marker = run.outcome.kind === 'marker' ? parseBootMarker(run.outcome.line.text, card.nonce) : null;
  expect(marker, outcomeText(run)).not.toBeNull();
  expect(marker!.arch).toBe(machine.guestArch);
  expect(marker!.root).toMatch(machine.rootDevice);
  return marker!;
}

const common: Need[] = ['root', 'tool:losetup', 'tool:qemu-img', 'tool:sfdisk', `file:${CARDSMITH_CLI}`];
const orangePi = MACHINES['orangepi-pc'];

describeWith([...common, ...needsOf(orangePi), `file:${SPL_FILE}`], 'orangepi-pc boots a Cardsmith card from its SPL at byte 8192', () => {
  let card: Card;
  const work = workFor('orangepi-pc');

  it('builds, flashes, verifies and boots to the root marker', async () => {
    card = await makeCard({ machine: orangePi, work, cardBytes: CARD_BYTES });
    const run = await bootCard({ machine: orangePi, card: card.file, cardBytes: card.sizeBytes, work, name: 'orangepi-pc', marker: markerFor(card) });
    expectBooted(orangePi, card, run);
  });

  it('carries an SPL whose eGON header and checksum the H3 boot ROM would accept', async () => {
    const spl = readAt(card.file, H3_SPL_OFFSET, H3_SPL_MAX_BYTES);
    expect(checkEgon(spl)).toMatchObject({ ok: true });
    expect(spl.equals(readFileSync(SPL_FILE).subarray(0, H3_SPL_MAX_BYTES))).toBe(true);
    const { inspection } = await inspectCard(card.file);
    expect(inspection.loaders).toContainEqual(expect.objectContaining({ kind: 'allwinner-egon', offset: H3_SPL_OFFSET, valid: true }));
  });

  // A good card prints "U-Boot SPL" within about 0.2 s; 8 s of silence means the ROM found nothing.
  const broken: readonly { readonly name: string; readonly damage: (bytes: Buffer, loaderBytes: number) => void }[] = [
    {
      name: 'loader moved by 1 KiB',
      damage: (bytes, loaderBytes) => {
        bytes.copy(bytes, H3_SPL_OFFSET + 1024, H3_SPL_OFFSET, H3_SPL_OFFSET + loaderBytes);
        bytes.fill(0, H3_SPL_OFFSET, H3_SPL_OFFSET + 1024);
      },
    },
    { name: 'loader removed', damage: (bytes, loaderBytes) => bytes.fill(0, H3_SPL_OFFSET, H3_SPL_OFFSET + loaderBytes) },
  ];
  for (const { name, damage } of broken) {
    it(`does not boot with the ${name}, and the host check rejects it`, async () => {
      const damaged = join(work, `${name.replace(/\W+/g, '-')}.img`);
      copySparse(card.file, damaged);
      const firstPartition = Math.min(...partitionsOf(damaged).map((partition) => partition.startBytes));
      const loaderBytes = statSync(SPL_FILE).size;
      expect(H3_SPL_OFFSET + 1024 + loaderBytes).toBeLessThanOrEqual(firstPartition);
      const head = readAt(damaged, 0, firstPartition);
      damage(head, loaderBytes);
      writeFileSync(damaged, head, { flag: 'r+' });

      expect(checkEgon(readAt(damaged, H3_SPL_OFFSET, H3_SPL_MAX_BYTES))).toMatchObject({ ok: false });
      const { inspection } = await inspectCard(damaged);
      expect(inspection.loaders.filter((loader) => loader.offset === H3_SPL_OFFSET && loader.valid)).toEqual([]);
      const run = await bootCard({ machine: orangePi, card: damaged, cardBytes: card.sizeBytes, work, name: `orangepi-pc-${name.replace(/\W+/g, '-')}`, marker: /U-Boot SPL/, deadlineMs: 8_000 });
      expect(run.outcome.kind, outcomeText(run)).toBe('deadline');
      expect(run.milestones).toEqual([]);
    });
  }
});

const virt = MACHINES['virt-aarch64'];
describeWith([...common, ...needsOf(virt), `file:${U_BOOT_QEMU_ARM64}`], 'virt (arm64) boots a Cardsmith card through u-boot-qemu', () => {
  let card: Card;

  it('builds, flashes, verifies and boots to the root marker', async () => {
    const work = workFor('virt');
    card = await makeCard({ machine: virt, work, cardBytes: CARD_BYTES });
    const run = await bootCard({ machine: virt, card: card.file, cardBytes: card.sizeBytes, work, name: 'virt-aarch64', marker: markerFor(card) });
    expectBooted(virt, card, run);
  });

  // `cardsmith flash --root-size fill` builds for the loop card and flashes in one step: the root
  // starts where it does on the minimal card (same boot partition) and ends at the card's end.
  it('boots a card whose root was built to fill a larger card, with the root filesystem at card size', async () => {
    const work = workFor('virt-fill');
    const rootStart = partitionsOf(card.file).at(-1)!.startBytes;
    const rootBytes = FILL_CARD_BYTES - rootStart;
    const filled = await makeCard({ machine: virt, work, cardBytes: FILL_CARD_BYTES, rootSize: 'fill' });
    const run = await bootCard({ machine: virt, card: filled.file, cardBytes: filled.sizeBytes, work, name: 'virt-aarch64-fill', marker: markerFor(filled) });
    const marker = expectBooted(virt, filled, run);
    const root = partitionsOf(filled.file).at(-1)!;
    expect(root).toEqual({ startBytes: rootStart, sizeBytes: rootBytes });
    expect(marker.partBytes).toBe(rootBytes);
    // ext4 reports its blocks minus its own metadata: most of the partition, far above the minimal root.
    expect(marker.fsBytes).toBeGreaterThan(0.9 * rootBytes);
  });
});

const raspi = MACHINES.raspi3b;
describeWith([...common, ...needsOf(raspi)], 'raspi3b boots a Cardsmith card with U-Boot and dtb taken from its FAT', () => {
  it('builds, flashes, verifies and boots to the root marker', async () => {
    const work = workFor('raspi3b');
    const card = await makeCard({ machine: raspi, work, cardBytes: CARD_BYTES });
    const run = await bootCard({ machine: raspi, card: card.file, cardBytes: card.sizeBytes, work, name: 'raspi3b', marker: markerFor(card) });
    expectBooted(raspi, card, run);
  });
});
