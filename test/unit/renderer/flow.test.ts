// @vitest-environment node
import { describe, expect, it } from 'vitest';
import * as flow from '../../../renderer/src/store/flow';
import { board, drive } from './samples';

const withAll = (): flow.FlowState => ({
  ...flow.INITIAL_FLOW,
  board: { kind: 'board', board: board() },
  image: { kind: 'file', path: '/img/a.img' },
  drive: drive(),
  imageChecked: true,
});

describe('flow navigation', () => {
  it('opens a step only when everything before it is chosen', () => {
    const empty = flow.INITIAL_FLOW;
    expect(flow.FLOW_STEPS.map((s) => flow.canEnter(empty, s))).toEqual([true, false, false, false, false, false, false]);
    expect(flow.FLOW_STEPS.map((s) => flow.canEnter(withAll(), s))).toEqual([true, true, true, true, true, true, false]);
    expect(flow.goTo(empty, 'card')).toBe(empty);
    // A local file chosen but not yet checked (or found not to be an image) holds the flow at Image.
    const unchecked = flow.chooseImage(withAll(), { kind: 'file', path: '/img/b.img' });
    expect(flow.FLOW_STEPS.map((s) => flow.canEnter(unchecked, s))).toEqual([true, true, false, false, false, false, false]);
    expect(flow.canEnter(flow.imageChecked(unchecked, '/img/other.img', true), 'card')).toBe(false);
    expect(flow.canEnter(flow.imageChecked(unchecked, '/img/b.img', true), 'card')).toBe(true);
    expect(flow.chooseImage(withAll(), { kind: 'url', url: 'https://x/y.img' }).imageChecked).toBe(true);
    expect(flow.goTo(withAll(), 'review').screen).toEqual({ kind: 'flow', step: 'review' });
  });

  it('clears the image when another board is chosen, keeps it for the same board', () => {
    const state = withAll();
    expect(flow.chooseBoard(state, { kind: 'board', board: board() }).image).not.toBeNull();
    expect(flow.chooseBoard(state, { kind: 'generic' }).image).toBeNull();
    expect(flow.chooseBoard(state, { kind: 'board', board: board({ id: 'rock64' }) }).image).toBeNull();
  });

  it('asks drives above 128 GB for the typed device name before flashing', () => {
    const big = { ...withAll(), drive: drive({ device: '/dev/sdc', sizeBytes: 256_000_000_000 }) };
    expect(flow.needsTypedConfirmation(big.drive)).toBe(true);
    expect(flow.confirmationWord(big.drive)).toBe('sdc');
    expect(flow.confirmationWord(drive({ device: '\\\\.\\PhysicalDrive2' }))).toBe('PhysicalDrive2');
    expect(flow.canEnter(big, 'flash')).toBe(false);
    expect(flow.canEnter({ ...big, confirmed: true }, 'flash')).toBe(true);
    expect(flow.chooseDrive({ ...big, confirmed: true }, drive()).confirmed).toBe(false);
  });

  it('names the engine source of each image kind; a rootfs has none until built', () => {
    expect(flow.sourceOf({ kind: 'file', path: '/a.img.xz' })).toBe('/a.img.xz');
    expect(flow.sourceOf({ kind: 'url', url: 'https://x/a.img' })).toBe('https://x/a.img');
    expect(flow.sourceOf({ kind: 'rootfs', rootfs: '/r.tar', rootSize: { mode: 'fill' } })).toBeNull();
  });

  it('defaults to the first catalog entry the board can use, and to the only choosable card', () => {
    const image = { id: 'img', name: 'I', description: '', kind: 'image' as const, boards: [], url: 'u', cached: false };
    const rootfs = { ...image, id: 'root', kind: 'rootfs' as const };
    expect(flow.defaultCatalogImage([rootfs, image], { kind: 'generic' })).toEqual({ kind: 'catalog', entry: image });
    expect(flow.defaultCatalogImage([rootfs, image], { kind: 'board', board: board() })).toEqual({ kind: 'catalog', entry: rootfs });
    expect(flow.defaultCatalogImage([], null)).toBeNull();
    expect(flow.onlyChoosableDrive([drive()])).toEqual(drive());
    expect(flow.onlyChoosableDrive([drive(), drive({ device: '/dev/sdc' })])).toBeNull();
  });

  it('flash another keeps board and image and returns to the card step', () => {
    const next = flow.flashAnother({ ...withAll(), screen: { kind: 'flow', step: 'done' } });
    expect(next.screen).toEqual({ kind: 'flow', step: 'card' });
    expect(next.drive).toBeNull();
    expect(next.image).toEqual({ kind: 'file', path: '/img/a.img' });
    expect(flow.nextStep(next, 'done')).toBeNull();
    expect(flow.previousStep(next, 'board')).toBeNull();
  });
});
