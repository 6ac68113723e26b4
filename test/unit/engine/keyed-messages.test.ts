/**
 * Keyed errors and phase details cross the worker pipe intact: thrown as CardsmithError.keyed,
 * turned into an ErrorInfo, written as an NDJSON Envelope line, split, validated with
 * EnvelopeSchema and thrown again on the other side (as the worker launcher does), they keep
 * their key, params, hint key and notes, and their English message. Params stay strings and
 * numbers, few and short; anything else fails validation.
 */
import { describe, expect, it } from 'vitest';
import { EnvelopeSchema, type JobEvent } from '../../../electron/engine/api';
import { CardsmithError, toErrorInfo } from '../../../electron/engine/errors';
import { createJobContext } from '../../../electron/engine/job';
import { message } from '../../../electron/engine/messages';
import { createLineSplitter } from '../../../electron/engine/ndjson';

/** What the worker writes and the main process reads: one line per envelope, in small chunks. */
function acrossThePipe(events: readonly JobEvent[]): unknown[] {
  const text = events.map((event) => `${JSON.stringify({ job: 'j1', event })}\n`).join('');
  const splitter = createLineSplitter();
  const lines: string[] = [];
  for (let at = 0; at < text.length; at += 13) lines.push(...splitter.push(text.slice(at, at + 13)));
  return [...lines, ...splitter.end()].map((line) => EnvelopeSchema.parse(JSON.parse(line)).event);
}

describe('keyed messages across the worker boundary', () => {
  it('a keyed error keeps key, params, hint key and notes, and its English message', () => {
    const thrown = CardsmithError.keyed(
      'checksum-mismatch',
      'flash.readbackMismatch',
      { device: '/dev/sdx', count: 3, bytes: 12288, first: 4096 },
      { device: '/dev/sdx', mismatchCount: 3 },
      { notes: [message('flash.headZeroed', { device: '/dev/sdx' })] },
    );
    const [event] = acrossThePipe([{ type: 'error', error: toErrorInfo(thrown) }]);
    if ((event as JobEvent).type !== 'error') throw new Error('expected an error event');
    const again = CardsmithError.fromInfo((event as Extract<JobEvent, { type: 'error' }>).error);
    expect(again.info).toMatchObject({
      cause: 'checksum-mismatch',
      key: 'flash.readbackMismatch',
      params: { device: '/dev/sdx', count: 3, bytes: 12288, first: 4096 },
      hintKey: 'hint.checksum-mismatch',
      notes: [{ key: 'flash.headZeroed', params: { device: '/dev/sdx' } }],
      details: { device: '/dev/sdx', mismatchCount: 3 },
    });
    expect(again.message).toBe(
      '/dev/sdx does not read back what was written: 3 ranges differ (12288 bytes), first at byte 4096; the first MiB of /dev/sdx is zeroed, so the partial card will not boot or mount',
    );
    expect(again.info.message).toBe(thrown.message);
  });

  it('a keyed phase detail arrives with its key, params and English', () => {
    const events: JobEvent[] = [];
    const ctx = createJobContext((event) => events.push(event), new AbortController().signal);
    ctx.phase('unmount', 'done', message('phase.unmount.released', { count: 2 }));
    ctx.phase('verify', 'start');
    expect(acrossThePipe(events)).toEqual([
      { type: 'phase', phase: 'unmount', state: 'done', detail: '2 mounts released', detailKey: 'phase.unmount.released', detailParams: { count: 2 } },
      { type: 'phase', phase: 'verify', state: 'start' },
    ]);
  });

  it('an error without a key still validates (old senders), and bad params do not', () => {
    const plain = { type: 'error', error: { cause: 'io', message: 'EIO' } };
    expect(EnvelopeSchema.safeParse({ job: 'j', event: plain }).success).toBe(true);
    const withParams = (params: unknown): boolean => EnvelopeSchema.safeParse({ job: 'j', event: { ...plain, error: { ...plain.error, key: 'flash.cardEnded', params } } }).success;
    expect(withParams({ device: '/dev/sdx', offset: 512 })).toBe(true);
    expect(withParams({ device: { nested: true } })).toBe(false);
    expect(withParams({ said: 'x'.repeat(5000) })).toBe(false);
    expect(withParams(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`p${i}`, i])))).toBe(false);
  });
});
