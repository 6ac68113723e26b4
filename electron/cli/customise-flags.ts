/**
 * The customisation flags `build`, `plan` and `flash` share: a settings file (`--customise`, the
 * contract's CustomiseSchema as JSON) overridden field by field by flags. Secrets are read from
 * files and derived here — the password hashed with sha512-crypt, the Wi-Fi passphrase turned
 * into its PSK — so only hashes enter the request; they are never printed.
 */
import { readFile } from 'node:fs/promises';
import { CustomiseSchema, type Customise } from '../engine/customise/model';
import { hashPassword } from '../engine/customise/crypt';
import { wpaPsk } from '../engine/customise/wpa';
import { UsageError, type OptionSpec, type ParsedValues } from './command';

export const CUSTOMISE_OPTIONS = {
  customise: { type: 'string' },
  hostname: { type: 'string' },
  user: { type: 'string' },
  'password-hash': { type: 'string' },
  'password-file': { type: 'string' },
  sudo: { type: 'boolean' },
  'ssh-key': { type: 'string', multiple: true },
  'ssh-password-login': { type: 'string' },
  'wifi-ssid': { type: 'string' },
  'wifi-psk-file': { type: 'string' },
  'wifi-country': { type: 'string' },
  'wifi-hidden': { type: 'boolean' },
  timezone: { type: 'string' },
  locale: { type: 'string' },
  keymap: { type: 'string' },
} as const satisfies OptionSpec;

export const CUSTOMISE_USAGE = [
  '  [--customise settings.json] [--hostname <name>] [--user <name> [--password-hash <crypt> | --password-file <f>] [--sudo]]',
  '  [--ssh-key <key.pub>]… [--ssh-password-login on|off] [--wifi-ssid <ssid> --wifi-psk-file <f> [--wifi-country CC] [--wifi-hidden]]',
  '  [--timezone <Area/City>] [--locale en_GB.UTF-8] [--keymap gb]   (flags override the file)',
].join('\n');

/** The flag that sets each settings field, for errors. */
const FLAG_OF: Record<string, string> = {
  hostname: 'hostname',
  'user.name': 'user',
  'user.passwordHash': 'password-hash',
  'user.sudo': 'sudo',
  'ssh.authorizedKeys': 'ssh-key',
  'ssh.passwordLogin': 'ssh-password-login',
  'wifi.ssid': 'wifi-ssid',
  'wifi.psk': 'wifi-psk-file',
  'wifi.country': 'wifi-country',
  'wifi.hidden': 'wifi-hidden',
  timezone: 'timezone',
  locale: 'locale',
  keymap: 'keymap',
};

const text = (values: ParsedValues, name: string): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);

async function readText(path: string, option: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--${option} ${path}: ${(error as Error).message}`);
  }
}

/** The first line of a secret file, without its line ending. */
async function firstLine(path: string, option: string): Promise<string> {
  const line = (await readText(path, option)).split(/\r?\n/)[0] ?? '';
  if (line === '') throw new UsageError(`--${option} ${path}: the file's first line is empty`);
  return line;
}

function onOff(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'on' || value === 'off') return value === 'on';
  throw new UsageError(`--ssh-password-login "${value}": expected on or off`);
}

const defined = <T extends object>(object: T): Partial<T> => Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;

/** The settings the flags (and `--customise` file) give, validated; undefined when none are given. */
export async function customiseFrom(values: ParsedValues): Promise<Customise | undefined> {
  const file = text(values, 'customise');
  const base: Record<string, unknown> = file ? await parseFile(file) : {};
  const section = (name: string): Record<string, unknown> => ({ ...((base[name] as Record<string, unknown> | undefined) ?? {}) });

  const user = section('user');
  Object.assign(user, defined({ name: text(values, 'user'), passwordHash: text(values, 'password-hash'), sudo: values.sudo === true ? true : undefined }));
  const passwordFile = text(values, 'password-file');
  if (passwordFile !== undefined) {
    if (text(values, 'password-hash') !== undefined) throw new UsageError('give --password-hash or --password-file, not both');
    user.passwordHash = await hashPassword(await firstLine(passwordFile, 'password-file'));
  }

  const ssh = section('ssh');
  const keyFiles = (values['ssh-key'] as string[] | undefined) ?? [];
  const keys: string[] = [];
  for (const path of keyFiles) {
    keys.push(...(await readText(path, 'ssh-key')).split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#')));
  }
  if (keyFiles.length > 0) ssh.authorizedKeys = keys;
  const passwordLogin = onOff(text(values, 'ssh-password-login'));
  if (passwordLogin !== undefined) ssh.passwordLogin = passwordLogin;
  if (keyFiles.length > 0 || passwordLogin !== undefined) ssh.enabled = true;

  const wifi = section('wifi');
  Object.assign(wifi, defined({ ssid: text(values, 'wifi-ssid'), country: text(values, 'wifi-country'), hidden: values['wifi-hidden'] === true ? true : undefined }));
  const pskFile = text(values, 'wifi-psk-file');
  if (pskFile !== undefined) {
    if (typeof wifi.ssid !== 'string') throw new UsageError('--wifi-psk-file needs --wifi-ssid (the key is derived from both)');
    const secret = await firstLine(pskFile, 'wifi-psk-file');
    try {
      wifi.psk = /^[0-9a-f]{64}$/i.test(secret) ? secret.toLowerCase() : await wpaPsk(wifi.ssid, secret);
    } catch (error) {
      throw new UsageError(`--wifi-psk-file ${pskFile}: ${(error as Error).message}`);
    }
  } else if (typeof wifi.ssid === 'string' && wifi.psk === undefined) {
    throw new UsageError('--wifi-ssid needs --wifi-psk-file (open networks are not supported)');
  }

  const settings = {
    ...base,
    ...defined({ hostname: text(values, 'hostname'), timezone: text(values, 'timezone'), locale: text(values, 'locale'), keymap: text(values, 'keymap') }),
    ...(Object.keys(user).length > 0 ? { user } : {}),
    ...(Object.keys(ssh).length > 0 ? { ssh } : {}),
    ...(Object.keys(wifi).length > 0 ? { wifi } : {}),
  };
  if (Object.keys(settings).length === 0) return undefined;
  const parsed = CustomiseSchema.safeParse(settings);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.filter((part) => typeof part === 'string').join('.');
  const flag = FLAG_OF[field];
  throw new UsageError(`${flag ? `--${flag}` : `--customise ${file} ${field || '(root)'}`}: ${issue.message}`);
}

async function parseFile(path: string): Promise<Record<string, unknown>> {
  const body = await readText(path, 'customise');
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected a JSON object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`--customise ${path}: ${(error as Error).message}`);
  }
}
