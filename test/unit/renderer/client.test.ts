// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { createClient, errorInfoFrom, isErrorCause } from '../../../renderer/src/client/cardsmith-client';
import { fakeApi, ScriptedError } from './samples';

describe('cardsmith client', () => {
  it('reads the ErrorInfo from every shape a rejection can take', () => {
    const info = { cause: 'busy' as const, message: 'mounted', hint: 'unmount', details: { device: '/dev/sdb' } };
    expect(errorInfoFrom(new ScriptedError(info))).toEqual(info);
    expect(errorInfoFrom(info)).toEqual(info);
    expect(errorInfoFrom(new Error(JSON.stringify(info)))).toEqual(info);
    expect(errorInfoFrom(new Error('boom'))).toEqual({ cause: 'internal', message: 'boom' });
    expect(errorInfoFrom({ cause: 'made-up', message: 'x' })).toEqual({ cause: 'internal', message: '[object Object]' });
    expect(isErrorCause('not-implemented')).toBe(true);
    expect(isErrorCause('toString')).toBe(false);
  });

  it('turns results and rejections into outcomes and passes events through', async () => {
    const api = fakeApi({
      listBoards: async (_request, emit) => {
        emit({ type: 'log', level: 'info', message: 'hello' });
        return { boards: [] };
      },
    });
    const client = createClient(api);
    const seen: string[] = [];
    expect(await client.run({ op: 'listBoards' }, (e) => seen.push(e.type))).toEqual({ ok: true, value: { boards: [] } });
    expect(seen).toEqual(['log']);
    const failed = await client.run({ op: 'listDrives' });
    expect(failed).toMatchObject({ ok: false, error: { cause: 'not-implemented', message: 'listDrives: not implemented yet' } });
    api.chosenFile = '/a.img';
    expect(await client.chooseImageFile()).toEqual({ ok: true, value: '/a.img' });
    await client.cancel('j1');
    expect(api.cancelled).toEqual(['j1']);
  });

  it('reports a window without window.cardsmith as a readable error', async () => {
    const client = createClient(undefined);
    expect(await client.run({ op: 'listBoards' })).toMatchObject({ ok: false, error: { cause: 'internal', details: { missing: 'window.cardsmith' } } });
    expect(client.newJobId('flash')).not.toBe(client.newJobId('flash'));
    expect(client.newJobId('x'.repeat(100)).length).toBeLessThanOrEqual(64);
  });
});
