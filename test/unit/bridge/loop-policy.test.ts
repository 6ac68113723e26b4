import { describe, expect, it } from 'vitest';
import { applyLoopPolicy, filterLoopDrives } from '../../bridge/server';
import type { Drive } from '../../../electron/engine/drives/model';
import { drive } from '../renderer/samples';


describe('test bridge loop policy', () => {
  it('never lets the page ask for loop devices itself', () => {
    expect(applyLoopPolicy({ op: 'flash', device: '/dev/loop3', allowLoop: true }, false)).toMatchObject({ allowLoop: false });
    expect(applyLoopPolicy({ op: 'listDrives', includeLoop: true }, false)).toMatchObject({ includeLoop: false });
  });

  it('with a list, allows and lists only the named loop devices', () => {
    const policy = ['/dev/loop3'];
    expect(applyLoopPolicy({ op: 'flash', device: '/dev/loop3' }, policy)).toMatchObject({ allowLoop: true });
    expect(applyLoopPolicy({ op: 'verify', device: '/dev/loop4' }, policy)).toMatchObject({ allowLoop: false });
    expect(applyLoopPolicy({ op: 'installLoader', target: '/dev/loop4' }, policy)).toMatchObject({ allowLoop: false });
    // Several cards in one job: allowed only when every one of them is on the list.
    expect(applyLoopPolicy({ op: 'flashMany', devices: ['/dev/loop3', '/dev/loop5'] }, [...policy, '/dev/loop5'])).toMatchObject({ allowLoop: true });
    expect(applyLoopPolicy({ op: 'flashMany', devices: ['/dev/loop3', '/dev/loop4'], allowLoop: true }, policy)).toMatchObject({ allowLoop: false });
    const listed = filterLoopDrives({ type: 'result', op: 'listDrives', result: { drives: [drive({ device: '/dev/loop3', readerKind: 'loop' }), drive({ device: '/dev/loop4', readerKind: 'loop' }), drive({ device: '/dev/sdb', readerKind: 'sd' })] } }, policy);
    expect(listed.type === 'result' && (listed.result as { drives: Drive[] }).drives.map((d) => d.device)).toEqual(['/dev/loop3', '/dev/sdb']);
  });
});
