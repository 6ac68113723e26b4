// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { INITIAL_FLOW, type FlowState, type ImageChoice } from '../../../renderer/src/store/flow';
import { flashRequest, planBuildRequest, planFlash } from '../../../renderer/src/store/flash-plan';
import { board, drive } from './samples';

const state = (image: ImageChoice, generic = false): FlowState => ({
  ...INITIAL_FLOW,
  board: generic ? { kind: 'generic' } : { kind: 'board', board: board() },
  image,
  drive: drive({ device: '/dev/loop7' }),
});
const on = { verify: true, eject: true };

describe('flash plan', () => {
  it('flashes a local file directly, with loader, verify and eject rows', () => {
    const plan = planFlash(state({ kind: 'file', path: '/i/a.img.xz' }), on);
    expect(plan).toMatchObject({ build: null, source: '/i/a.img.xz', device: '/dev/loop7', board: 'orangepi-pc' });
    expect(plan?.phases).toEqual(['unmount', 'write', 'bootloader', 'verify', 'eject']);
    expect(plan && flashRequest(plan)).toEqual({ op: 'flash', source: '/i/a.img.xz', device: '/dev/loop7', verify: true, eject: true, board: 'orangepi-pc' });
  });

  it('generic board and verify/eject off: no loader, verify or eject rows, no board in the request', () => {
    const plan = planFlash(state({ kind: 'url', url: 'https://h/a.img' }, true), { verify: false, eject: false });
    expect(plan?.phases).toEqual(['fetch', 'unmount', 'write']);
    // A URL image is flashed straight from the URL (the download overlaps the write and lands in the cache).
    expect(plan).toMatchObject({ build: null, source: 'https://h/a.img' });
    expect(plan && flashRequest(plan)).toEqual({ op: 'flash', source: 'https://h/a.img', device: '/dev/loop7', verify: false, eject: false });
  });

  it('flashes a rootfs build as one job, a catalog rootfs by its id (the engine fetches it)', () => {
    const rootfs = planFlash(state({ kind: 'rootfs', rootfs: '/r/root.tar.gz', rootSize: { mode: 'fill' } }), on);
    expect(rootfs).toMatchObject({ build: { rootfs: '/r/root.tar.gz', remote: false, rootSize: { mode: 'fill' } }, source: null });
    expect(rootfs?.phases[0]).toBe('build');
    // The flash builds at the card's real size; only the Review plan names the chosen card's size.
    expect(rootfs && flashRequest(rootfs)).toEqual({
      op: 'flash',
      device: '/dev/loop7',
      verify: true,
      eject: true,
      board: 'orangepi-pc',
      build: { board: 'orangepi-pc', rootfs: '/r/root.tar.gz', rootSize: { mode: 'fill' } },
    });
    const cardSizeBytes = drive({ device: '/dev/loop7' }).sizeBytes;
    expect(rootfs && planBuildRequest(rootfs)).toEqual({
      op: 'planBuild',
      recipe: { board: 'orangepi-pc', rootfs: '/r/root.tar.gz', rootSize: { mode: 'fill' }, cardSizeBytes },
    });

    const entry = { id: 'debian-rootfs', name: 'Debian', description: '', kind: 'rootfs' as const, boards: [], url: 'https://h/r.tar', cached: false };
    const catalog = planFlash(state({ kind: 'catalog', entry }), on);
    expect(catalog).toMatchObject({ build: { rootfs: 'debian-rootfs', remote: true }, source: null });
    expect(catalog?.phases.slice(0, 2)).toEqual(['fetch', 'build']);
    expect(catalog && flashRequest(catalog)?.build).toEqual({ board: 'orangepi-pc', rootfs: 'debian-rootfs', rootSize: { mode: 'minimal' } });
    // Review cannot plan a rootfs that is not downloaded yet.
    expect(catalog && planBuildRequest(catalog)).toBeNull();
  });

  it('passes the loader folder of a rootfs build on to the recipe, and needs a board profile to build', () => {
    const plan = planFlash(state({ kind: 'rootfs', rootfs: '/r.tar', rootSize: { mode: 'minimal' }, loaderFrom: '/u-boot/rock64' }), on);
    expect(plan && flashRequest(plan)?.build).toEqual({ board: 'orangepi-pc', rootfs: '/r.tar', rootSize: { mode: 'minimal' }, loaderFrom: '/u-boot/rock64' });
    const generic = planFlash(state({ kind: 'rootfs', rootfs: '/r.tar', rootSize: { mode: 'minimal' } }, true), on);
    expect(generic && flashRequest(generic)).toBeNull();
  });

  it('has no plan until board, image and card are chosen', () => {
    expect(planFlash(INITIAL_FLOW, on)).toBeNull();
  });
});
