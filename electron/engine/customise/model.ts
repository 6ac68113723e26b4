/**
 * The customisation settings: what a card is told about its first user, its name, its network and
 * its region. Every field is optional; secrets travel only as hashes (the password as a crypt
 * hash, the Wi-Fi passphrase as its 64-hex PBKDF2 key), derived before they leave the renderer or
 * the CLI. Imports nothing from Node, so the renderer validates as it is typed with the same rules.
 */
import { z } from 'zod';
import { isPasswordHash } from './crypt';
import { SSH_KEY_TYPES, parseSshKey } from './ssh-keys';
import { MAX_SSID_BYTES, ssidBytes } from './wpa';

/** RFC 1123 host name label: letters, digits, inner hyphens, 1–63 characters. */
export const HOSTNAME = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
/** useradd's default NAME_REGEX, at most 32 characters (utmp's ut_user). */
export const USER_NAME = /^[a-z_][a-z0-9_-]*[$]?$/;
export const MAX_USER_NAME = 32;
/** Names a rootfs already uses for system accounts are refused by the planner, not here. */
export const LOCALE = /^[a-z]{2,3}(_[A-Z]{2})?(\.(UTF-8|utf8))?(@[a-z]+)?$/;
export const KEYMAP = /^[a-z]{2}(-[a-z0-9_]+)?$/;
export const COUNTRY = /^[A-Z]{2}$/;

/** An IANA time zone name this runtime's tz database knows (aliases included), or UTC. */
export function isTimeZone(name: string): boolean {
  if (name === 'UTC') return true;
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/.test(name)) return false;
  if (Intl.supportedValuesOf('timeZone').includes(name)) return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function validSshKey(line: string): boolean {
  try {
    parseSshKey(line, 'key');
    return true;
  } catch {
    return false;
  }
}

export const UserSchema = z.strictObject({
  name: z
    .string()
    .max(MAX_USER_NAME, `a user name is at most ${MAX_USER_NAME} characters`)
    .regex(USER_NAME, 'a user name starts with a lower-case letter or _ and holds only a-z, 0-9, _ and - (useradd NAME_REGEX)'),
  /** crypt(3) hash for /etc/shadow: sha512-crypt ($6$) or yescrypt ($y$); absent: the account is locked for password login. */
  passwordHash: z.string().refine(isPasswordHash, 'the password must be a sha512-crypt ($6$) or yescrypt ($y$) hash, never the password itself').optional(),
  sudo: z.boolean().optional(),
});

export const SshSchema = z.strictObject({
  enabled: z.boolean().optional(),
  authorizedKeys: z
    .array(z.string().refine(validSshKey, `not an SSH public key (${SSH_KEY_TYPES.join(', ')})`))
    .max(64)
    .optional(),
  passwordLogin: z.boolean().optional(),
});

export const WifiSchema = z.strictObject({
  ssid: z.string().refine((ssid) => ssidBytes(ssid) >= 1 && ssidBytes(ssid) <= MAX_SSID_BYTES, `an SSID is 1 to ${MAX_SSID_BYTES} bytes of UTF-8`),
  /** PBKDF2-HMAC-SHA1(passphrase, ssid, 4096, 32) in hex, as wpa_passphrase prints it (see wpa.ts). */
  psk: z.string().regex(/^[0-9a-f]{64}$/, 'the Wi-Fi key must be the 64-hex PBKDF2 key (wpaPsk), not the passphrase'),
  country: z.string().regex(COUNTRY, 'a Wi-Fi country is an ISO 3166 alpha-2 code such as GB').optional(),
  hidden: z.boolean().optional(),
});

export const CustomiseSchema = z.strictObject({
  hostname: z.string().regex(HOSTNAME, 'a host name is 1 to 63 letters, digits and inner hyphens (RFC 1123)').optional(),
  user: UserSchema.optional(),
  ssh: SshSchema.optional(),
  wifi: WifiSchema.optional(),
  timezone: z.string().refine(isTimeZone, 'not an IANA time zone name (e.g. Europe/London)').optional(),
  locale: z.string().regex(LOCALE, 'a locale looks like en_GB.UTF-8').optional(),
  keymap: z.string().regex(KEYMAP, 'a keyboard layout looks like gb or de-nodeadkeys').optional(),
});
export type Customise = z.infer<typeof CustomiseSchema>;

/** A saved set of settings (secrets already hashed); at most one preset is the default. */
export const PresetSchema = z.strictObject({
  name: z.string().min(1).max(64),
  settings: CustomiseSchema,
  default: z.boolean().optional(),
});
export type Preset = z.infer<typeof PresetSchema>;

export const PresetsFileSchema = z.strictObject({
  version: z.literal(1),
  presets: z
    .array(PresetSchema)
    .max(256)
    .refine((presets) => presets.filter((p) => p.default).length <= 1, 'at most one preset is the default')
    .refine((presets) => new Set(presets.map((p) => p.name)).size === presets.length, 'preset names are unique'),
});
export type PresetsFile = z.infer<typeof PresetsFileSchema>;

/** The settings with secrets replaced, for logs and events. */
export function redacted(settings: Customise): Customise {
  return {
    ...settings,
    ...(settings.user ? { user: { ...settings.user, ...(settings.user.passwordHash ? { passwordHash: '(hidden)' } : {}) } } : {}),
    ...(settings.wifi ? { wifi: { ...settings.wifi, psk: '(hidden)' } } : {}),
  };
}

/** True when the settings ask for nothing. */
export function isEmpty(settings: Customise): boolean {
  return Object.values(settings).every((value) => value === undefined);
}
