// The harness checks itself without any card: QEMU virt boots the Debian arm64 kernel directly
// with the test initramfs, whose /init unpacks the test root tarball (ustar, written by tar.ts)
// onto a tmpfs with busybox tar and switch_roots into it. A pass proves the cpio and tar writers,
// the module list and load order, /init, the root's /sbin/init and the console watcher — so a
// failing card boot points at the card, not at the harness.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { fixturePath } from '../helpers/fixtures';
import { describeWith } from '../helpers/needs';
import { buildInitramfs, EMBEDDED_ROOTFS } from './initramfs';
import { MILESTONES, VIRT_MODULES, kernelImage } from './machines';
import { ARTIFACT_DIR, assertMilestonesInOrder, outcomeText, runQemu } from './qemu';
import { buildRootfs, parseBootMarker } from './rootfs';

const kernelRoot = fixturePath('linux-image-arm64_arm64');
const busybox = fixturePath('busybox-static_arm64', 'bin/busybox');

describeWith(['tool:qemu-system-aarch64', `file:${busybox}`, `file:${join(kernelRoot, 'boot')}`], 'boot harness without a card', () => {
  it('boots the arm64 kernel into the tarball root through the initramfs', async () => {
    const rootfs = buildRootfs(busybox);
    const work = join(ARTIFACT_DIR, 'harness');
    mkdirSync(work, { recursive: true });
    const initrd = join(work, 'initrd.img');
    writeFileSync(initrd, buildInitramfs({ busybox, kernelRoot, modules: VIRT_MODULES, embeddedRootfs: rootfs.tarball }));

    const run = await runQemu({
      name: 'harness-virt-aarch64',
      binary: 'qemu-system-aarch64',
      args: ['-M', 'virt', '-cpu', 'cortex-a57', '-smp', '2', '-m', '512', '-nographic', '-nic', 'none', '-no-reboot',
        '-kernel', kernelImage(kernelRoot), '-initrd', initrd, '-append', `console=ttyAMA0 loglevel=4 root=/${EMBEDDED_ROOTFS}`],
      deadlineMs: 60_000,
      marker: new RegExp(`CARDSMITH-BOOT-OK nonce=${rootfs.nonce} `),
      failures: MILESTONES.failures,
      milestones: MILESTONES.all,
      graceMs: 5_000,
    });

    expect(run.outcome.kind, outcomeText(run)).toBe('marker');
    assertMilestonesInOrder(run, ['initramfs', 'marker', 'poweroff']);
    const marker = run.outcome.kind === 'marker' ? parseBootMarker(run.outcome.line.text, rootfs.nonce) : null;
    expect(marker).toMatchObject({ arch: 'aarch64', root: 'tmpfs' });
    expect(run.lines.some((line) => line.text.includes(`cardsmith boot test root ${rootfs.nonce}`))).toBe(true);
  });
});
