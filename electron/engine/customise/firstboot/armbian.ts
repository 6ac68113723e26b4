/**
 * Armbian's own first-login mechanism. Every Armbian image ships /root/.not_logged_in_yet; at the
 * first interactive root login armbian-firstlogin (package armbian-bsp-cli) checks it with
 * `bash -n`, sources it, and answers its questions from the PRESET_* variables it finds (the rest
 * it still asks): user name and real name, locale and time zone (SET_LANG_BASED_ON_LOCATION=n
 * skips its location lookup), and a netplan Wi-Fi file from PRESET_NET_*. Cardsmith appends its
 * values, each a single-quoted bash word, to the file the image already has (later assignments
 * win when sourced), written 0600 root:root through the in-place ext4 editor. The host name has
 * no preset variable, so /etc/hostname and the names in /etc/hosts are replaced instead.
 *
 * What Armbian cannot take as Cardsmith holds it is refused, never dropped: the script hands
 * PRESET_USER_PASSWORD to passwd as plain text (Cardsmith has only a crypt hash), fetches SSH keys
 * with curl from a URL (PRESET_USER_KEY), always makes the user a sudoer, has no keymap, SSH or
 * hidden-network preset, and writes the SSID inside a double-quoted YAML string through echo -e.
 */
import { readDiskLayout, type ReadAt } from '../../disk/read-layout';
import { CardsmithError } from '../../errors';
import { english, message, type Message } from '../../messages';
import { readExt4File, type Ext4File } from '../../fs/ext4/edit';
import type { Customise } from '../model';
import { shQuote } from './firstrun';

export const ARMBIAN_PRESET = '/root/.not_logged_in_yet';
export const ARMBIAN_RELEASE = '/etc/armbian-release';
/** armbian-firstlogin's test for a user name. */
const ARMBIAN_USER = /^[a-zA-Z][a-zA-Z0-9]*$/;

export interface ArmbianRoot {
  /** Byte offset of the ext4 root filesystem on the disk. */
  readonly offset: number;
}

/** Whether the disk has an Armbian root with its first login pending; when not, why: in English and as keyed sentences. */
export interface ArmbianSearch {
  readonly root: ArmbianRoot | null;
  readonly reason: string;
  readonly said: readonly Message[];
}

/**
 * The disk's ext4 partition holding /etc/armbian-release (the first, when several do — Armbian
 * images with a separate ext4 /boot put the root second) when its first-login preset is still
 * pending; otherwise null and why (for the refusal the caller builds).
 */
export async function findArmbianRoot(read: ReadAt, sizeBytes: number): Promise<ArmbianSearch> {
  const layout = await readDiskLayout(read, sizeBytes);
  const seen: string[] = [];
  const said: Message[] = [];
  for (const p of layout.partitions) {
    const magic = await read(p.start + 1024 + 0x38, 2);
    if (magic.length < 2 || magic[0] !== 0x53 || magic[1] !== 0xef) continue;
    try {
      if (!(await readExt4File(read, p.start, ARMBIAN_RELEASE))) {
        seen.push(`the ext4 partition at byte ${p.start} has no ${ARMBIAN_RELEASE}`);
        said.push(message('armbian.why.noRelease', { offset: p.start, file: ARMBIAN_RELEASE }));
        continue;
      }
      if (!(await readExt4File(read, p.start, ARMBIAN_PRESET))) {
        return { root: null, reason: `its Armbian root (byte ${p.start}) has no ${ARMBIAN_PRESET}, so its first login has already run or is not Armbian's`, said: [message('armbian.why.noPreset', { offset: p.start, file: ARMBIAN_PRESET })] };
      }
    } catch (error) {
      // "Not read yet" from a streamed image must reach the caller, which fetches the bytes.
      if (!(error instanceof CardsmithError) || error.info.cause === 'internal') throw error;
      seen.push(`the ext4 partition at byte ${p.start} could not be read: ${error.message}`);
      said.push(message('armbian.why.unreadable', { offset: p.start }));
      continue;
    }
    return { root: { offset: p.start }, reason: `its ext4 root at byte ${p.start} has ${ARMBIAN_RELEASE} and ${ARMBIAN_PRESET} (Armbian first login)`, said: [] };
  }
  return { root: null, reason: seen.length > 0 ? seen.join('; ') : 'it has no ext4 partition', said: seen.length > 0 ? said : [message('armbian.why.noExt4')] };
}

/** Every setting Armbian's first login cannot take as Cardsmith holds it, in words. */
export function armbianRefusals(settings: Customise): Message[] {
  const out: Message[] = [];
  const user = settings.user;
  if (user && !ARMBIAN_USER.test(user.name)) out.push(message('armbian.userName', { name: user.name }));
  if (user?.passwordHash) out.push(message('armbian.password'));
  if (user?.sudo === false) out.push(message('armbian.noSudo'));
  if (settings.ssh?.authorizedKeys?.length) out.push(message('armbian.sshKeys'));
  else if (settings.ssh) out.push(message('armbian.ssh'));
  if (settings.keymap) out.push(message('armbian.keymap'));
  if (settings.wifi?.hidden) out.push(message('armbian.hiddenWifi'));
  // The SSID reaches netplan inside a double-quoted YAML string, built with `echo -e`.
  if (settings.wifi && /["\\\p{Cc}]/u.test(settings.wifi.ssid)) out.push(message('armbian.ssid'));
  return out;
}

export function checkArmbianSettings(settings: Customise): void {
  const refused = armbianRefusals(settings);
  if (refused.length > 0) {
    // The English message lists the refusals inline; the app shows the keyed sentence and each refusal as a translated note.
    const said = refused.map(english);
    const text = `This Armbian image cannot take these settings through its first-login preset: ${said.join('; ')}. Remove them and try again.`;
    throw CardsmithError.fromInfo({ cause: 'bad-input', message: text, key: 'armbian.refused', params: {}, details: { refused: said }, notes: refused });
  }
}

/** The PRESET_* lines for `settings` (empty when none of them is a preset variable). */
export function presetLines(settings: Customise): string[] {
  const lines: [string, string][] = [];
  if (settings.user) lines.push(['PRESET_USER_NAME', settings.user.name], ['PRESET_DEFAULT_REALNAME', settings.user.name]);
  if (settings.locale) lines.push(['SET_LANG_BASED_ON_LOCATION', 'n'], ['PRESET_LOCALE', settings.locale]);
  if (settings.timezone) lines.push(['PRESET_TIMEZONE', settings.timezone]);
  if (settings.wifi) {
    lines.push(['PRESET_NET_CHANGE_DEFAULTS', '1'], ['PRESET_NET_WIFI_ENABLED', '1'], ['PRESET_NET_WIFI_SSID', settings.wifi.ssid], ['PRESET_NET_WIFI_KEY', settings.wifi.psk]);
    if (settings.wifi.country) lines.push(['PRESET_NET_WIFI_COUNTRYCODE', settings.wifi.country]);
    lines.push(['PRESET_CONNECT_WIRELESS', 'n']);
  }
  return lines.map(([name, value]) => `${name}=${shQuote(value)}`);
}

/** The preset file: what the image had, then Cardsmith's lines (the later assignment wins). */
export function presetFile(existing: string, settings: Customise): string {
  const head = existing === '' || existing.endsWith('\n') ? existing : `${existing}\n`;
  return `${head}# Cardsmith: read by armbian-firstlogin at the first root login\n${presetLines(settings).join('\n')}\n`;
}

/** /etc/hosts with `old` renamed to `name` everywhere, and a 127.0.1.1 line for it. */
export function renamedHosts(hosts: string, old: string, name: string): string {
  const lines = hosts.split('\n').map((line) => {
    const [body, ...comment] = line.split('#');
    const words = body!.split(/(\s+)/).map((w, i) => (i > 0 && old !== '' && w === old ? name : w));
    return [words.join(''), ...comment].join('#');
  });
  if (!lines.some((line) => /^\s*127\.0\.1\.1\s/.test(line))) {
    if (lines[lines.length - 1] === '') lines.pop();
    lines.push(`127.0.1.1\t${name}`, '');
  }
  return lines.join('\n');
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array | null): string | null => (bytes ? new TextDecoder().decode(bytes) : null);

/** The files that hand `settings` to the Armbian image whose root is at `root`. */
export async function armbianFiles(read: ReadAt, root: ArmbianRoot, settings: Customise): Promise<Ext4File[]> {
  checkArmbianSettings(settings);
  const files: Ext4File[] = [];
  if (presetLines(settings).length > 0) {
    const existing = decode(await readExt4File(read, root.offset, ARMBIAN_PRESET)) ?? '';
    files.push({ path: ARMBIAN_PRESET, bytes: utf8(presetFile(existing, settings)), mode: 0o600, uid: 0, gid: 0 });
  }
  if (settings.hostname) {
    const old = (decode(await readExt4File(read, root.offset, '/etc/hostname')) ?? '').trim();
    const hosts = decode(await readExt4File(read, root.offset, '/etc/hosts')) ?? '127.0.0.1\tlocalhost\n';
    files.push({ path: '/etc/hostname', bytes: utf8(`${settings.hostname}\n`) });
    files.push({ path: '/etc/hosts', bytes: utf8(renamedHosts(hosts, old, settings.hostname)) });
  }
  if (files.length === 0) throw CardsmithError.keyed('bad-input', 'armbian.nothing', {}, {});
  return files;
}

/** The value of a bash word as `source` assigns it: 'single', "double" (\-escapes), bare. */
function bashValue(word: string): string {
  let out = '';
  for (let i = 0; i < word.length; i++) {
    const c = word[i]!;
    if (/\s/.test(c)) break;
    if (c === "'") {
      const end = word.indexOf("'", i + 1);
      out += word.slice(i + 1, end === -1 ? undefined : end);
      i = end === -1 ? word.length : end;
    } else if (c === '"') {
      for (i++; i < word.length && word[i] !== '"'; i++) out += word[i] === '\\' && /["\\$`]/.test(word[i + 1] ?? '') ? word[++i] : word[i];
    } else if (c === '\\') {
      out += word[++i] ?? '';
    } else {
      out += c;
    }
  }
  return out;
}

/** The last value each variable gets in a preset file (what sourcing it leaves). */
export function presetValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) values.set(m[1]!, bashValue(m[2]!));
  }
  return values;
}
