import { describe, expect, it } from 'vitest';
import { CustomiseSchema, PresetsFileSchema, isTimeZone, redacted } from '../../../electron/engine/customise/model';

const HASH = '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';
const PSK = 'f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM/LK8qtQnjSqjiHOvDmQs0g2iypOSqYJJb8q19RfFfS me@host';

const full = {
  hostname: 'lab-pi-7',
  user: { name: 'ada', passwordHash: HASH, sudo: true },
  ssh: { enabled: true, authorizedKeys: [KEY], passwordLogin: false },
  wifi: { ssid: 'Lab net', psk: PSK, country: 'GB', hidden: true },
  timezone: 'Europe/London',
  locale: 'en_GB.UTF-8',
  keymap: 'gb',
};

/** The first problem zod reports for `settings`, as "path: message". */
function problem(settings: unknown): string {
  const result = CustomiseSchema.safeParse(settings);
  if (result.success) return 'accepted';
  return result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

describe('CustomiseSchema', () => {
  it('accepts every field, and nothing at all', () => {
    expect(CustomiseSchema.parse(full)).toEqual(full);
    expect(CustomiseSchema.parse({})).toEqual({});
  });

  it.each([
    ['hostname', { hostname: '-lab' }, /^hostname: a host name/],
    ['hostname over 63', { hostname: 'a'.repeat(64) }, /^hostname:/],
    ['hostname with a dot', { hostname: 'lab.example' }, /^hostname:/],
    ['user name', { user: { name: 'Ada' } }, /^user.name: a user name starts/],
    ['user name over 32', { user: { name: 'a'.repeat(33) } }, /^user.name: a user name is at most 32/],
    ['plain password', { user: { name: 'ada', passwordHash: 'hunter22' } }, /^user.passwordHash: .*never the password itself/],
    ['ssh key', { ssh: { authorizedKeys: ['ssh-ed25519 AAAA'] } }, /^ssh.authorizedKeys.0: not an SSH public key/],
    ['SSID over 32 bytes', { wifi: { ssid: 'é'.repeat(17), psk: PSK } }, /^wifi.ssid: an SSID is 1 to 32 bytes/],
    ['passphrase instead of key', { wifi: { ssid: 'lab', psk: 'password1' } }, /^wifi.psk: .*not the passphrase/],
    ['country', { wifi: { ssid: 'lab', psk: PSK, country: 'gb' } }, /^wifi.country:/],
    ['time zone', { timezone: 'Europe/Londn' }, /^timezone: not an IANA time zone/],
    ['locale', { locale: 'english' }, /^locale:/],
    ['keymap', { keymap: 'GB' }, /^keymap:/],
    ['unknown field', { hostnme: 'x' }, /hostnme/],
  ])('refuses a bad %s, naming the field', (_, settings, message) => {
    expect(problem(settings)).toMatch(message);
  });

  it('knows IANA names and their aliases, and refuses offsets and paths', () => {
    for (const name of ['UTC', 'Etc/UTC', 'America/Argentina/Buenos_Aires', 'Europe/Kiev', 'Asia/Kolkata']) expect(isTimeZone(name)).toBe(true);
    for (const name of ['+01:00', 'Mars/Olympus', '../../etc/passwd', 'Europe/London/']) expect(isTimeZone(name)).toBe(false);
  });

  it('redacts both secrets and nothing else', () => {
    const shown = JSON.stringify(redacted(CustomiseSchema.parse(full)));
    expect(shown).not.toContain(HASH);
    expect(shown).not.toContain(PSK);
    expect(shown).toContain('lab-pi-7');
    expect(shown).toContain('Lab net');
  });
});

describe('PresetsFileSchema', () => {
  it('allows one default preset and unique names only', () => {
    const preset = (name: string, isDefault?: boolean) => ({ name, settings: { hostname: name }, ...(isDefault ? { default: true } : {}) });
    expect(PresetsFileSchema.safeParse({ version: 1, presets: [preset('lab', true), preset('home')] }).success).toBe(true);
    expect(PresetsFileSchema.safeParse({ version: 1, presets: [preset('lab', true), preset('home', true)] }).success).toBe(false);
    expect(PresetsFileSchema.safeParse({ version: 1, presets: [preset('lab'), preset('lab')] }).success).toBe(false);
  });
});
