import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../electron/cli/command';
import { customiseFrom } from '../../../electron/cli/customise-flags';
import { savePreset } from '../../../electron/engine/customise/presets';
import { which } from '../../helpers/needs';

const HASH = '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM/LK8qtQnjSqjiHOvDmQs0g2iypOSqYJJb8q19RfFfS me@host';
const dir = mkdtempSync(join(tmpdir(), 'cardsmith-flags-'));
const file = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  delete process.env.CARDSMITH_CACHE;
});

describe('customiseFrom', () => {
  it('gives nothing when no flag is given', async () => {
    expect(await customiseFrom({ board: 'x' })).toBeUndefined();
  });

  it('reads the settings file and lets flags override it field by field', async () => {
    const settings = file('s.json', JSON.stringify({ hostname: 'from-file', timezone: 'Europe/Paris', user: { name: 'bob', sudo: true } }));
    const result = await customiseFrom({ customise: settings, hostname: 'from-flag', user: 'ada', 'password-hash': HASH });
    expect(result).toEqual({ hostname: 'from-flag', timezone: 'Europe/Paris', user: { name: 'ada', sudo: true, passwordHash: HASH } });
  });

  it.runIf(which('openssl'))('hashes --password-file with sha512-crypt (checked by openssl) and never keeps the password', async () => {
    const result = await customiseFrom({ user: 'ada', 'password-file': file('pw', 'open sesame\n') });
    const hash = result!.user!.passwordHash!;
    expect(JSON.stringify(result)).not.toContain('open sesame');
    expect(execFileSync('openssl', ['passwd', '-6', '-salt', hash.split('$')[2]!, '-stdin'], { input: 'open sesame' }).toString().trim()).toBe(hash);
  });

  it('derives the Wi-Fi key from the passphrase file, or takes a 64-hex key as it is', async () => {
    const fromPass = await customiseFrom({ 'wifi-ssid': 'IEEE', 'wifi-psk-file': file('psk', 'password\n'), 'wifi-country': 'GB', 'wifi-hidden': true });
    expect(fromPass?.wifi).toEqual({ ssid: 'IEEE', psk: 'f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e', country: 'GB', hidden: true });
    const fromKey = await customiseFrom({ 'wifi-ssid': 'x', 'wifi-psk-file': file('hex', 'F42C6FC52DF0EBEF9EBB4B90B38A5F902E83FE1B135A70E23AED762E9710A12E\n') });
    expect(fromKey?.wifi?.psk).toBe('f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e');
  });

  it('turns SSH on with keys read from files, comments skipped', async () => {
    const result = await customiseFrom({ user: 'ada', 'ssh-key': [file('k.pub', `# laptop\n${KEY}\n`)], 'ssh-password-login': 'off' });
    expect(result?.ssh).toEqual({ enabled: true, authorizedKeys: [KEY], passwordLogin: false });
  });

  it.each([
    [{ 'wifi-ssid': 'lab' }, /--wifi-ssid needs --wifi-psk-file/],
    [{ 'wifi-psk-file': '/nonexistent' }, /--wifi-psk-file needs --wifi-ssid/],
    [{ user: 'ada', 'password-hash': HASH, 'password-file': '/x' }, /not both/],
    [{ 'ssh-password-login': 'maybe' }, /expected on or off/],
    [{ hostname: 'a_b' }, /^--hostname: /],
    [{ 'password-hash': 'plain', user: 'ada' }, /^--password-hash: .*never the password itself/],
    [{ customise: '/nonexistent.json' }, /--customise \/nonexistent.json/],
  ])('refuses %o with a usage error naming the flag', async (values, message) => {
    const error = await customiseFrom(values).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
  });

  it('names the field of a bad settings file', async () => {
    const bad = file('bad.json', JSON.stringify({ wifi: { ssid: 'x', psk: 'short' }, extra: 1 }));
    await expect(customiseFrom({ customise: bad })).rejects.toThrow(/--wifi-psk-file|--customise .*extra/);
  });

  it('starts from a saved preset (--preset), under the file and the flags', async () => {
    process.env.CARDSMITH_CACHE = dir;
    await savePreset({ name: 'lab', settings: { hostname: 'preset-host', locale: 'de_DE.UTF-8', user: { name: 'lab', sudo: true } }, default: true }, join(dir, 'presets.json'));
    const result = await customiseFrom({ preset: 'lab', customise: file('p.json', JSON.stringify({ locale: 'fr_FR.UTF-8' })), user: 'ada' });
    expect(result).toEqual({ hostname: 'preset-host', locale: 'fr_FR.UTF-8', user: { name: 'ada', sudo: true } });
    await expect(customiseFrom({ preset: 'home' })).rejects.toThrow(/no saved preset "home" \(saved: lab\)/);
  });
});
