// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { INITIAL_FLOW, type FlowState, type ImageChoice } from '../../../renderer/src/store/flow';
import { buildOutputPath, buildRequest, flashRequest, planBuildRequest, planFlash } from '../../../renderer/src/store/flash-plan';
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
    expect(plan).toMatchObject({ fetchSource: null, build: null, flashSource: '/i/a.img.xz', device: '/dev/loop7', board: 'orangepi-pc' });
    expect(plan?.phases).toEqual(['unmount', 'write', 'bootloader', 'verify', 'eject']);
    expect(plan && flashRequest(plan, '/i/a.img.xz')).toEqual({ op: 'flash', source: '/i/a.img.xz', device: '/dev/loop7', verify: true, eject: true, board: 'orangepi-pc' });
  });

  it('generic board and verify/eject off: no loader, verify or eject rows, no board in the request', () => {
    const plan = planFlash(state({ kind: 'url', url: 'https://h/a.img' }, true), { verify: false, eject: false });
    expect(plan?.phases).toEqual(['fetch', 'unmount', 'write']);
    // A URL image is flashed straight from the URL (the download overlaps the write and lands in the cache).
    expect(plan).toMatchObject({ fetchSource: null, build: null, flashSource: 'https://h/a.img' });
    expect(plan && flashRequest(plan, 'https://h/a.img')).toEqual({ op: 'flash', source: 'https://h/a.img', device: '/dev/loop7', verify: false, eject: false });
  });

  it('builds a rootfs first, and a catalog rootfs is downloaded, built, then flashed', () => {
    const rootfs = planFlash(state({ kind: 'rootfs', rootfs: '/r/root.tar.gz', rootSize: { mode: 'fill' } }), on);
    expect(rootfs).toMatchObject({ fetchSource: null, build: { rootfs: '/r/root.tar.gz', rootSize: { mode: 'fill' } }, flashSource: null });
    expect(rootfs?.phases[0]).toBe('build');
    const entry = { id: 'debian-rootfs', name: 'Debian', description: '', kind: 'rootfs' as const, boards: [], url: 'https://h/r.tar', cached: false };
    const catalog = planFlash(state({ kind: 'catalog', entry }), on);
    expect(catalog).toMatchObject({ fetchSource: 'debian-rootfs', build: { rootfs: null }, flashSource: null });
    expect(catalog?.phases.slice(0, 2)).toEqual(['fetch', 'build']);
    // A fill root is built at the card's size, so the build needs it.
    const cardSizeBytes = drive({ device: '/dev/loop7' }).sizeBytes;
    expect(rootfs && buildRequest(rootfs, 'orangepi-pc', '/r/root.tar.gz', '/r/out.img')).toEqual({
      op: 'build',
      recipe: { board: 'orangepi-pc', rootfs: '/r/root.tar.gz', rootSize: { mode: 'fill' }, cardSizeBytes, output: '/r/out.img', bmap: '/r/out.img.bmap' },
    });
    expect(rootfs && planBuildRequest(rootfs, 'orangepi-pc', '/r/root.tar.gz')).toEqual({
      op: 'planBuild',
      recipe: { board: 'orangepi-pc', rootfs: '/r/root.tar.gz', rootSize: { mode: 'fill' }, cardSizeBytes },
    });
  });

  it('passes the loader folder of a rootfs build on to the recipe', () => {
    const plan = planFlash(state({ kind: 'rootfs', rootfs: '/r.tar', rootSize: { mode: 'minimal' }, loaderFrom: '/u-boot/rock64' }), on);
    expect(plan && buildRequest(plan, 'rock64', '/r.tar', '/o.img').recipe).toEqual({ board: 'rock64', rootfs: '/r.tar', rootSize: { mode: 'minimal' }, output: '/o.img', bmap: '/o.img.bmap', loaderFrom: '/u-boot/rock64' });
  });

  it('puts a built image in the cache folder, or beside its rootfs', () => {
    expect(buildOutputPath('/r/root.tar.gz', 'rock64', '', '20260101T000000')).toBe('/r/root-rock64-20260101T000000.img');
    expect(buildOutputPath('/r/tree/', undefined, '/cache/', 's')).toBe('/cache/tree-generic-s.img');
    expect(buildOutputPath('C:\\r\\root.tar', 'x', '', 's')).toBe('C:\\r\\root-x-s.img');
    expect(buildOutputPath('root.tar', 'x', '', 's')).toBe('./root-x-s.img');
  });

  it('has no plan until board, image and card are chosen', () => {
    expect(planFlash(INITIAL_FLOW, on)).toBeNull();
  });
});
