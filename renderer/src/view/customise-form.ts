/**
 * The Customise step's form: plain text as typed, checked field by field with the engine's own
 * rules (customise/model.ts) and told in the app's words (message keys, so in the UI language),
 * and turned into the contract's settings with the secrets derived
 * here — the password as a sha512-crypt hash, the Wi-Fi passphrase as its PSK — so neither ever
 * reaches the store, the settings file or the engine.
 */
import { CustomiseSchema, WifiSchema, type Customise } from '../../../electron/engine/customise/model';
import { hashPassword } from '../../../electron/engine/customise/crypt';
import { SSH_KEY_TYPES, parseSshKey } from '../../../electron/engine/customise/ssh-keys';
import { MAX_PASSPHRASE, MAX_SSID_BYTES, MIN_PASSPHRASE, ssidBytes, wpaPsk } from '../../../electron/engine/customise/wpa';
import type { MessageKey, Params } from '../i18n/translate';

export interface CustomiseForm {
  readonly hostname: string;
  readonly userName: string;
  /** Empty keeps the hash already chosen (if any); it is never stored. */
  readonly password: string;
  readonly sudo: boolean;
  readonly sshKeys: string;
  readonly sshPasswordLogin: boolean;
  readonly ssid: string;
  /** Empty keeps the key already chosen for the same SSID. */
  readonly passphrase: string;
  readonly country: string;
  readonly timezone: string;
  readonly locale: string;
  readonly keymap: string;
}

export type FormField = keyof CustomiseForm;

/** What is wrong with a field, as a message of the UI's catalogue. */
export interface FieldProblem {
  readonly key: MessageKey;
  readonly params?: Params;
}

/** The form for settings already chosen; secrets come back empty (only their hashes exist). */
export function formOf(settings: Customise | null): CustomiseForm {
  return {
    hostname: settings?.hostname ?? '',
    userName: settings?.user?.name ?? '',
    password: '',
    sudo: settings?.user?.sudo ?? true,
    sshKeys: (settings?.ssh?.authorizedKeys ?? []).join('\n'),
    sshPasswordLogin: settings?.ssh?.passwordLogin ?? false,
    ssid: settings?.wifi?.ssid ?? '',
    passphrase: '',
    country: settings?.wifi?.country ?? '',
    timezone: settings?.timezone ?? '',
    locale: settings?.locale ?? '',
    keymap: settings?.keymap ?? '',
  };
}

function keyLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function valid(field: keyof typeof CustomiseSchema.shape, value: unknown): boolean {
  return CustomiseSchema.shape[field].safeParse(value).success;
}

function throws(check: () => void): boolean {
  try {
    check();
    return false;
  } catch {
    return true;
  }
}

/**
 * What is wrong with each filled field, decided by the engine's rules. `previous` holds the hashes
 * already chosen, so an empty password or passphrase field is fine when one exists.
 */
export function formProblems(form: CustomiseForm, previous: Customise | null): Partial<Record<FormField, FieldProblem>> {
  const problems: Partial<Record<FormField, FieldProblem>> = {};
  const put = (field: FormField, wrong: boolean, key: MessageKey, params?: Params): void => {
    if (wrong && !problems[field]) problems[field] = params ? { key, params } : { key };
  };
  if (form.hostname) put('hostname', !valid('hostname', form.hostname), 'customise.problem.hostname');
  if (form.userName) put('userName', !valid('user', { name: form.userName }), 'customise.problem.userName');
  put('password', form.password !== '' && !form.userName, 'customise.problem.passwordNeedsUser');
  keyLines(form.sshKeys).forEach((line, index) => {
    put('sshKeys', throws(() => parseSshKey(line, `line ${index + 1}`)), 'customise.problem.sshKey', { line: index + 1, types: SSH_KEY_TYPES.join(', ') });
  });
  if (form.ssid) {
    const bytes = ssidBytes(form.ssid);
    put('ssid', bytes > MAX_SSID_BYTES, 'customise.problem.ssid', { bytes, max: MAX_SSID_BYTES });
    const keepsKey = form.passphrase === '' && previous?.wifi?.ssid === form.ssid;
    const { length } = form.passphrase;
    const wrong = length < MIN_PASSPHRASE || length > MAX_PASSPHRASE || !/^[\x20-\x7e]*$/.test(form.passphrase);
    put('passphrase', !keepsKey && wrong, 'customise.problem.passphrase', { min: MIN_PASSPHRASE, max: MAX_PASSPHRASE, length });
  } else {
    put('ssid', form.passphrase !== '' || form.country !== '', 'customise.problem.ssidNeeded');
  }
  if (form.country) put('country', !WifiSchema.shape.country.safeParse(form.country).success, 'customise.problem.country');
  if (form.timezone) put('timezone', !valid('timezone', form.timezone), 'customise.problem.timezone');
  if (form.locale) put('locale', !valid('locale', form.locale), 'customise.problem.locale');
  if (form.keymap) put('keymap', !valid('keymap', form.keymap), 'customise.problem.keymap');
  return problems;
}

/**
 * The contract's settings for a valid form: the password hashed, the passphrase turned into the
 * PSK (or the earlier hash/key kept when left empty). Checked by the schema once more at the end.
 */
export async function customiseOf(form: CustomiseForm, previous: Customise | null): Promise<Customise> {
  const passwordHash = form.password ? await hashPassword(form.password) : previous?.user?.name === form.userName ? previous.user.passwordHash : undefined;
  const keys = keyLines(form.sshKeys);
  const psk = form.passphrase ? await wpaPsk(form.ssid, form.passphrase) : previous?.wifi?.ssid === form.ssid ? previous.wifi.psk : undefined;
  const settings: Customise = {
    ...(form.hostname ? { hostname: form.hostname } : {}),
    ...(form.userName ? { user: { name: form.userName, sudo: form.sudo, ...(passwordHash ? { passwordHash } : {}) } } : {}),
    ...(keys.length > 0 || form.sshPasswordLogin ? { ssh: { enabled: true, ...(keys.length > 0 ? { authorizedKeys: keys } : {}), passwordLogin: form.sshPasswordLogin } } : {}),
    ...(form.ssid && psk ? { wifi: { ssid: form.ssid, psk, ...(form.country ? { country: form.country } : {}) } } : {}),
    ...(form.timezone ? { timezone: form.timezone } : {}),
    ...(form.locale ? { locale: form.locale } : {}),
    ...(form.keymap ? { keymap: form.keymap } : {}),
  };
  return CustomiseSchema.parse(settings);
}
