import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatSshKey, parseSshKey, parseSshKeys } from '../../../electron/engine/customise/ssh-keys';
import { describeWith } from '../../helpers/needs';

const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM/LK8qtQnjSqjiHOvDmQs0g2iypOSqYJJb8q19RfFfS me@host';

describeWith(['tool:ssh-keygen'], 'SSH public keys made by ssh-keygen', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const make = (args: string[]): string => {
    const file = join(dir, `k${Math.random().toString(36).slice(2)}`);
    execFileSync('ssh-keygen', ['-q', '-N', '', '-C', 'test key', '-f', file, ...args]);
    return readFileSync(`${file}.pub`, 'utf8');
  };

  it.each([
    ['ed25519', ['-t', 'ed25519']],
    ['rsa', ['-t', 'rsa', '-b', '2048']],
    ['ecdsa 256', ['-t', 'ecdsa', '-b', '256']],
    ['ecdsa 384', ['-t', 'ecdsa', '-b', '384']],
    ['ecdsa 521', ['-t', 'ecdsa', '-b', '521']],
  ])('accepts an %s key and gives it back unchanged', (_, args) => {
    const text = make(args).trim();
    const key = parseSshKey(text, 'id.pub');
    expect(key.comment).toBe('test key');
    expect(formatSshKey(key)).toBe(text);
  });

  it('refuses the private key file, naming it', () => {
    const file = join(dir, 'private');
    execFileSync('ssh-keygen', ['-q', '-N', '', '-t', 'ed25519', '-f', file]);
    expect(() => parseSshKeys(readFileSync(file, 'utf8'), file)).toThrow(/private key/);
  });
});

describe('parseSshKey refusals', () => {
  it('refuses a truncated blob, saying where it ends', () => {
    const [type, body] = ED25519.split(' ');
    const cut = Buffer.from(body!, 'base64').subarray(0, 40).toString('base64');
    expect(() => parseSshKey(`${type} ${cut}`, 'f')).toThrow(expect.objectContaining({ info: expect.objectContaining({ cause: 'bad-input', details: { where: 'f', offset: 15 } }) }));
  });

  it('refuses a key whose blob holds another type', () => {
    expect(() => parseSshKey(ED25519.replace('ssh-ed25519', 'ssh-rsa'), 'f')).toThrow(/says it is ssh-rsa but its blob holds ssh-ed25519/);
  });

  it('refuses unknown types, bad base64 and an ed25519 key of the wrong length', () => {
    expect(() => parseSshKey('ssh-dss AAAA', 'f')).toThrow(/not a supported/);
    expect(() => parseSshKey('ssh-ed25519 not*base64', 'f')).toThrow(/not valid base64/);
    const blob = Buffer.from(ED25519.split(' ')[1]!, 'base64');
    const short = Buffer.concat([blob.subarray(0, 15), Buffer.from([0, 0, 0, 31]), blob.subarray(19, 50)]);
    expect(() => parseSshKey(`ssh-ed25519 ${short.toString('base64')}`, 'f')).toThrow(/32 bytes; this one is 31/);
  });

  it('names the line of a bad key in a file and skips comments', () => {
    expect(parseSshKeys(`# mine\n\n${ED25519}\n`, 'keys')).toHaveLength(1);
    expect(() => parseSshKeys(`${ED25519}\nssh-ed25519 AAAA\n`, 'keys')).toThrow(/^keys line 2:/);
  });
});
