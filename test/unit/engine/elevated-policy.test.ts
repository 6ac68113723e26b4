import { describe, expect, it } from 'vitest';
import { RequestSchema } from '../../../electron/engine/api';
import { cardMode, parseCommandLine, refusal } from '../../../electron/engine/elevated/policy';

const request = (input: unknown) => RequestSchema.parse(input);

describe('the privileged worker policy', () => {
  it('parses start, cancel and shutdown lines and rejects anything else', () => {
    expect(parseCommandLine('{"cmd":"cancel","job":"a"}')).toEqual({ kind: 'command', command: { cmd: 'cancel', job: 'a' } });
    const start = parseCommandLine('{"cmd":"start","job":"j1","request":{"op":"flash","source":"x.img","device":"/dev/sdb"}}');
    expect(start).toMatchObject({ kind: 'command', command: { request: { op: 'flash', verify: true, allowLoop: false } } });
    expect(parseCommandLine('not json')).toMatchObject({ kind: 'invalid', error: { cause: 'bad-input' } });
    expect(parseCommandLine('{"cmd":"start","job":"j","request":{"op":"flash"}}')).toMatchObject({ kind: 'invalid', error: { cause: 'bad-input' } });
    expect(parseCommandLine(`{"cmd":"cancel","job":"${'x'.repeat(65)}"}`)).toMatchObject({ kind: 'invalid' });
  });

  it('serves only requests that open a card, and listing drives', () => {
    const policy = { allowLoop: false };
    expect(refusal(request({ op: 'build', recipe: { board: 'b', rootfs: 'r', output: 'o' } }), policy)).toMatchObject({ cause: 'bad-input' });
    expect(refusal(request({ op: 'fetch', source: 'https://example.org/x.img' }), policy)).toMatchObject({ cause: 'bad-input' });
    expect(refusal(request({ op: 'listDrives' }), policy)).toBeNull();
    expect(refusal(request({ op: 'flash', source: 's', device: '/dev/sdb' }), policy)).toBeNull();
  });

  it('refuses a loader install onto anything but a device under /dev', () => {
    const policy = { allowLoop: false };
    expect(refusal(request({ op: 'installLoader', board: 'b', target: '/etc/passwd' }), policy)).toMatchObject({ cause: 'bad-input' });
    expect(refusal(request({ op: 'installLoader', board: 'b', target: 'card.img' }), policy)).toMatchObject({ cause: 'bad-input' });
    expect(refusal(request({ op: 'installLoader', board: 'b', target: '/dev/sdb' }), policy)).toBeNull();
  });

  it('accepts loop devices only from a worker started with --allow-loop', () => {
    const flash = request({ op: 'flash', source: 's', device: '/dev/loop3', allowLoop: true });
    expect(refusal(flash, { allowLoop: false })).toMatchObject({ cause: 'unsafe-target' });
    expect(refusal(request({ op: 'listDrives', includeLoop: true }), { allowLoop: false })).toMatchObject({ cause: 'unsafe-target' });
    expect(refusal(flash, { allowLoop: true })).toBeNull();
  });

  it('opens the card to write for flash and loader installs, to read for verify', () => {
    expect(cardMode(request({ op: 'flash', source: 's', device: '/dev/sdb' }))).toBe('write');
    expect(cardMode(request({ op: 'installLoader', board: 'b', target: '/dev/sdb' }))).toBe('write');
    expect(cardMode(request({ op: 'verify', source: 's', device: '/dev/sdb' }))).toBe('read');
  });
});
