/**
 * The Customise step's form: plain text as typed, checked field by field with the engine's own
 * rules (customise/model.ts), and turned into the contract's settings with the secrets derived
 * here — the password as a sha512-crypt hash, the Wi-Fi passphrase as its PSK — so neither ever
 * reaches the store, the settings file or the engine.
 */
import { CustomiseSchema, WifiSchema, type Customise } from '../../../electron/engine/customise/model';
import { hashPassword } from '../../../electron/engine/customise/crypt';
import { parseSshKey } from '../../../electron/engine/customise/ssh-keys';
import { MAX_PASSPHRASE, MIN_PASSPHRASE, checkSsid, wpaPsk } from '../../../electron/engine/customise/wpa';

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

function firstIssue(result: { success: boolean; error?: { issues: readonly { message: string }[] } }): string | null {
  return result.success ? null : (result.error?.issues[0]?.message ?? 'invalid');
}

function schemaMessage(field: keyof typeof CustomiseSchema.shape, value: unknown): string | null {
  return firstIssue(CustomiseSchema.shape[field].safeParse(value));
}

function thrownMessage(check: () => void): string | null {
  try {
    check();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * What is wrong with each filled field, in the engine's words. `previous` holds the hashes already
 * chosen, so an empty password or passphrase field is fine when one exists.
 */
export function formProblems(form: CustomiseForm, previous: Customise | null): Partial<Record<FormField, string>> {
  const problems: Partial<Record<FormField, string>> = {};
  const put = (field: FormField, message: string | null): void => {
    if (message !== null) problems[field] = message;
  };
  if (form.hostname) put('hostname', schemaMessage('hostname', form.hostname));
  if (form.userName) put('userName', schemaMessage('user', { name: form.userName }));
  if (form.password && !form.userName) put('password', 'a password needs a user name');
  keyLines(form.sshKeys).forEach((line, index) => {
    if (!problems.sshKeys) put('sshKeys', thrownMessage(() => parseSshKey(line, `line ${index + 1}`)));
  });
  if (form.ssid) {
    put('ssid', thrownMessage(() => checkSsid(form.ssid)));
    const keepsKey = form.passphrase === '' && previous?.wifi?.ssid === form.ssid;
    const { length } = form.passphrase;
    if (!keepsKey && (length < MIN_PASSPHRASE || length > MAX_PASSPHRASE || !/^[\x20-\x7e]*$/.test(form.passphrase))) {
      put('passphrase', `The Wi-Fi passphrase must be ${MIN_PASSPHRASE} to ${MAX_PASSPHRASE} printable ASCII characters (it has ${length})`);
    }
  } else if (form.passphrase || form.country) put('ssid', 'a Wi-Fi passphrase or country needs an SSID');
  if (form.country) put('country', firstIssue(WifiSchema.shape.country.safeParse(form.country)));
  if (form.timezone) put('timezone', schemaMessage('timezone', form.timezone));
  if (form.locale) put('locale', schemaMessage('locale', form.locale));
  if (form.keymap) put('keymap', schemaMessage('keymap', form.keymap));
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
