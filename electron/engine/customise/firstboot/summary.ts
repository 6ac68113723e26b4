/**
 * What first-boot settings a card or image carries, for `inspect`: read from the boot FAT's
 * first-boot files (an Imager-style firstrun.sh and its cmdline.txt hook, cloud-init seeds) —
 * host name, user names, how many SSH keys, Wi-Fi network names, time zone — or, for Armbian,
 * from its first-login preset and /etc/hostname. Secrets (passwords, password hashes, Wi-Fi
 * keys) are never part of it. A root filesystem is read only when it is Armbian's.
 */
import type { ReadAt } from '../../disk/read-layout';
import { toErrorInfo } from '../../errors';
import type { Customise } from '../model';
import { readExt4File } from '../../fs/ext4/edit';
import { ARMBIAN_PRESET, presetValues, type ArmbianRoot } from './armbian';
import { chooseFirstBoot, findBootFat, firstBootEdit } from './detect';
import type { CustomisationSummary } from './summary-model';

const FILES = ['firstrun.sh', 'user-data', 'network-config', 'meta-data'];
const KEY_LINE = /(?:^|["\s-])((?:ssh-(?:ed25519|rsa)|ecdsa-sha2-nistp\d+|sk-[a-z0-9-]+@openssh\.com) AAAA[A-Za-z0-9+/=]+)/gm;

/** A word as sh reads it: 'single quoted' (with '\'' for a quote) or bare. */
function shWord(text: string): string {
  if (!text.startsWith("'")) return text;
  return text.slice(1, -1).replace(/'\\''/g, "'");
}
// A bare word never starts with "]", so `[ -x …/userconf ]` is not read as a call.
const SH_WORD = `('(?:[^']|'\\\\'')*'|[^\\s'"\\]][^\\s'"]*)`;

/** A YAML scalar as we and most seeds write it: "JSON string", 'single', or plain. */
function yamlScalar(text: string): string {
  const t = text.trim();
  if (t.startsWith('"')) {
    try {
      return JSON.parse(t) as string;
    } catch {
      return t.slice(1, -1);
    }
  }
  return t.startsWith("'") ? t.slice(1, -1).replace(/''/g, "'") : t;
}

function fromFirstrun(script: string, into: CustomisationSummary): void {
  const one = (re: RegExp): string | undefined => {
    const m = re.exec(script);
    return m ? shWord(m[1]!) : undefined;
  };
  into.hostname ??= one(new RegExp(`set_hostname ${SH_WORD}`)) ?? one(new RegExp(`echo ${SH_WORD} >/etc/hostname`));
  const user = one(new RegExp(`userconf ${SH_WORD}`)) ?? one(new RegExp(`useradd [^\\n]*?${SH_WORD}\\n`));
  if (user && !into.users.includes(user)) into.users.push(user);
  const ssid = one(new RegExp(`set_wlan (?:-h )?${SH_WORD}`));
  if (ssid) into.wifiNetworks.push(ssid);
  into.timezone ??= one(new RegExp(`set_timezone ${SH_WORD}`));
  into.sshKeys += [...script.matchAll(KEY_LINE)].length;
}

function fromUserData(text: string, into: CustomisationSummary): void {
  const hostname = /^hostname:(.*)$/m.exec(text);
  if (hostname) into.hostname ??= yamlScalar(hostname[1]!);
  for (const m of text.matchAll(/^\s*-\s+name:(.*)$/gm)) {
    const name = yamlScalar(m[1]!);
    if (!into.users.includes(name)) into.users.push(name);
  }
  const tz = /^timezone:(.*)$/m.exec(text);
  if (tz) into.timezone ??= yamlScalar(tz[1]!);
  into.sshKeys += [...text.matchAll(KEY_LINE)].length;
}

function fromNetworkConfig(text: string, into: CustomisationSummary): void {
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const indent = /^(\s*)access-points:\s*$/.exec(line)?.[1]?.length;
    if (indent === undefined) return;
    for (let j = i + 1; j < lines.length; j++) {
      const m = /^(\s*)(.+):\s*$/.exec(lines[j]!);
      const depth = /^\s*/.exec(lines[j]!)![0].length;
      if (lines[j]!.trim() !== '' && depth <= indent) break;
      if (m && m[1]!.length === indent + 2) into.wifiNetworks.push(yamlScalar(m[2]!));
    }
  });
}

/** Why the disk takes no first-boot settings: the English line, and the keyed sentences when the error has them. */
function refusal(error: unknown): { kind: null; reason: string; said?: { key: string; params: Record<string, string | number> }[] } {
  const info = toErrorInfo(error);
  if (info.key === undefined) return { kind: null, reason: info.message };
  return { kind: null, reason: info.message, said: [{ key: info.key, params: { ...info.params } }, ...(info.notes ?? []).map((note) => ({ key: note.key, params: { ...note.params } }))] };
}

/** The edit a flash with `settings` would make on this disk, run in full (patches and all) but not written. */
async function plannedEdit(read: ReadAt, sizeBytes: number, settings: Customise, initFormat: string | undefined): Promise<NonNullable<CustomisationSummary['planned']>> {
  try {
    const edit = await firstBootEdit(read, sizeBytes, settings, { ...(initFormat === undefined ? {} : { initFormat }), mtime: Math.floor(Date.now() / 1000), instanceId: 'cardsmith-review' });
    return { kind: edit.choice.kind, reason: edit.choice.reason, files: [...edit.files] };
  } catch (error) {
    return { ...refusal(error), files: [] };
  }
}

async function fromArmbian(read: ReadAt, root: ArmbianRoot, into: CustomisationSummary): Promise<void> {
  into.rootPartitionOffset = root.offset;
  const text = async (path: string): Promise<string | null> => {
    const bytes = await readExt4File(read, root.offset, path);
    return bytes ? new TextDecoder().decode(bytes) : null;
  };
  try {
    const preset = await text(ARMBIAN_PRESET);
    if (preset === null) return;
    into.firstBootFiles.push(ARMBIAN_PRESET);
    const values = presetValues(preset);
    const get = (name: string): string | undefined => values.get(name) || undefined;
    const user = get('PRESET_USER_NAME');
    if (user) into.users.push(user);
    const ssid = get('PRESET_NET_WIFI_SSID');
    if (ssid && get('PRESET_NET_WIFI_ENABLED') === '1') into.wifiNetworks.push(ssid);
    into.timezone = get('PRESET_TIMEZONE');
    into.locale = get('PRESET_LOCALE');
    into.hostname = (await text('/etc/hostname'))?.trim() || undefined;
  } catch (error) {
    into.problem = (error as Error).message;
  }
}

/**
 * What the disk's first-boot files carry, and whether (and how) it could take first-boot settings; with
 * `plan`, also what a flash with those settings would write.
 */
export async function summariseCustomisation(read: ReadAt, sizeBytes: number, plan?: { settings: Customise; initFormat?: string }): Promise<CustomisationSummary> {
  const fat = await findBootFat(read, sizeBytes).catch(() => null);
  let armbian: ArmbianRoot | undefined;
  const mechanism = await chooseFirstBoot(fat, undefined, { read, sizeBytes }).then(
    (choice): CustomisationSummary['mechanism'] => {
      armbian = choice.armbian;
      return { kind: choice.kind, reason: choice.reason };
    },
    (error: unknown) => refusal(error),
  );
  const summary: CustomisationSummary = { firstBootFiles: [], cmdlineHook: false, users: [], sshKeys: 0, wifiNetworks: [], mechanism };
  if (armbian) await fromArmbian(read, armbian, summary);
  if (plan) summary.planned = await plannedEdit(read, sizeBytes, plan.settings, plan.initFormat);
  if (!fat) return summary;
  summary.bootPartitionOffset = fat.offset;
  try {
    const text = async (name: string): Promise<string | null> => {
      const bytes = await fat.volume.readFile(name);
      return bytes ? new TextDecoder().decode(bytes) : null;
    };
    for (const name of FILES) {
      const body = await text(name);
      if (body === null) continue;
      summary.firstBootFiles.push(name);
      if (name === 'firstrun.sh') fromFirstrun(body, summary);
      if (name === 'user-data') fromUserData(body, summary);
      if (name === 'network-config') fromNetworkConfig(body, summary);
    }
    summary.cmdlineHook = /systemd\.run=\S*firstrun\.sh/.test((await text('cmdline.txt')) ?? '');
  } catch (error) {
    summary.problem = (error as Error).message;
  }
  return summary;
}
