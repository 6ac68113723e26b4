import { describe, expect, it } from 'vitest';
import { EnvelopeSchema, RequestSchema, ResultSchemas, WorkerCommandSchema } from '../../../electron/engine/api';
import { runRequest } from '../../../electron/engine/operations';
import type { JobEvent } from '../../../electron/engine/api';

describe('contract', () => {
  it('fills request defaults and rejects unknown operations', () => {
    const flash = RequestSchema.parse({ op: 'flash', source: 'a.img', device: '/dev/sdz' });
    expect(flash).toMatchObject({ verify: true, eject: false, allowLoop: false });
    expect(flash).not.toHaveProperty('holes');
    expect(RequestSchema.parse({ op: 'flash', source: 'a.img', device: '/dev/sdz', holes: 'read-first' })).toMatchObject({ holes: 'read-first' });
    expect(RequestSchema.safeParse({ op: 'flash', source: 'a.img', device: '/dev/sdz', holes: 'wipe' }).success).toBe(false);
    expect(RequestSchema.safeParse({ op: 'format-everything' }).success).toBe(false);
  });

  it('has a result schema for every operation', () => {
    const ops = RequestSchema.options.map((option) => option.shape.op.value).sort();
    expect(Object.keys(ResultSchemas).sort()).toEqual(ops);
  });

  it('validates worker lines strictly', () => {
    expect(WorkerCommandSchema.safeParse({ cmd: 'start', job: 'j1', request: { op: 'listBoards' } }).success).toBe(true);
    expect(WorkerCommandSchema.safeParse({ cmd: 'start', job: '', request: { op: 'listBoards' } }).success).toBe(false);
    expect(EnvelopeSchema.safeParse({ job: 'j1', event: { type: 'progress', phase: 'write' } }).success).toBe(false);
  });

  it('turns an invalid request into a bad-input error event, never a throw', async () => {
    const events: JobEvent[] = [];
    const result = await runRequest({ op: 'inspect' }, (event) => events.push(event));
    expect(result).toBeUndefined();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'error', error: { cause: 'bad-input' } });
    expect(JSON.stringify(events[0])).toContain('target');
  });
});
