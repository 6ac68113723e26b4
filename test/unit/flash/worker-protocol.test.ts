import { describe, expect, it } from 'vitest';
import { RequestSchema } from '../../../electron/engine/api';
import { parseCommandLine, refusal } from '../../../electron/engine/flash/worker-protocol';

const request = (input: unknown) => RequestSchema.parse(input);

describe('worker protocol', () => {
  it('parses start, cancel and shutdown lines and rejects anything else', () => {
    expect(parseCommandLine('{"cmd":"cancel","job":"a"}')).toEqual({ kind: 'command', command: { cmd: 'cancel', job: 'a' } });
    const start = parseCommandLine('{"cmd":"start","job":"j1","request":{"op":"flash","source":"x.img","device":"/dev/sdb"}}');
    expect(start).toMatchObject({ kind: 'command', command: { request: { op: 'flash', verify: true, allowLoop: false } } });
    expect(parseCommandLine('not json')).toMatchObject({ kind: 'invalid', error: { cause: 'bad-input' } });
    expect(parseCommandLine('{"cmd":"start","job":"j","request":{"op":"flash"}}')).toMatchObject({ kind: 'invalid', error: { cause: 'bad-input' } });
    expect(parseCommandLine(`{"cmd":"cancel","job":"${'x'.repeat(65)}"}`)).toMatchObject({ kind: 'invalid' });
  });

  it('serves only privileged operations and listing drives', () => {
    const policy = { allowLoop: false };
    expect(refusal(request({ op: 'build', recipe: { board: 'b', rootfs: 'r', output: 'o' } }), policy, new Set())).toMatchObject({ cause: 'bad-input' });
    expect(refusal(request({ op: 'listDrives' }), policy, new Set())).toBeNull();
    expect(refusal(request({ op: 'flash', source: 's', device: '/dev/sdb' }), policy, new Set())).toBeNull();
  });

  it('accepts loop devices only from a worker started with --allow-loop', () => {
    const flash = request({ op: 'flash', source: 's', device: '/dev/loop3', allowLoop: true });
    expect(refusal(flash, { allowLoop: false }, new Set())).toMatchObject({ cause: 'unsafe-target' });
    expect(refusal(request({ op: 'listDrives', includeLoop: true }), { allowLoop: false }, new Set())).toMatchObject({ cause: 'unsafe-target' });
    expect(refusal(flash, { allowLoop: true }, new Set())).toBeNull();
  });

  it('runs one job per device', () => {
    const verify = request({ op: 'verify', source: 's', device: '/dev/sdb' });
    expect(refusal(verify, { allowLoop: false }, new Set(['/dev/sdb']))).toMatchObject({ cause: 'busy' });
    expect(refusal(verify, { allowLoop: false }, new Set(['/dev/sdc']))).toBeNull();
  });
});
