/**
 * Who the elevated part works for. pkexec sets PKEXEC_UID and sudo SUDO_UID to the user who
 * asked (both scrub the rest of the environment; on macOS the elevated shell sets SUDO_UID, see
 * main/elevation.ts); started by root directly, it works for root.
 * The card job runs with that user's uid, gid and home, with no supplementary groups, so it can
 * read only what the user can read and write nothing of root's.
 */
import { execFileSync } from 'node:child_process';
import { CardsmithError } from '../errors';

export interface InvokingUser {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
  readonly home: string;
}

/**
 * A passwd(5) line: name:password:uid:gid:gecos:home:shell — or on macOS (`id -P`) the
 * master.passwd form: name:password:uid:gid:class:change:expire:gecos:home:shell.
 */
export function parsePasswdLine(line: string): InvokingUser | null {
  const fields = line.trim().split(':');
  if (fields.length !== 7 && fields.length !== 10) return null;
  const [name = '', , uid = '', gid = ''] = fields;
  const home = fields[fields.length - 2] ?? '';
  if (!/^\d+$/.test(uid) || !/^\d+$/.test(gid) || name === '') return null;
  return { name, uid: Number(uid), gid: Number(gid), home: home || '/' };
}

/** The uid the elevated part was started for, from the environment its elevator set. */
export function invokingUid(env: NodeJS.ProcessEnv, ownUid: number): number {
  const raw = env.PKEXEC_UID ?? env.SUDO_UID ?? String(ownUid);
  if (!/^\d{1,10}$/.test(raw)) throw CardsmithError.keyed('permission', 'elevated.badUid', { uid: raw.slice(0, 32) });
  return Number(raw);
}

export function invokingUser(env: NodeJS.ProcessEnv = process.env): InvokingUser {
  const uid = invokingUid(env, process.getuid?.() ?? 0);
  let line = '';
  try {
    // macOS has no getent; its id(1) prints the account as a master.passwd line.
    const lookup = process.platform === 'darwin' ? { tool: '/usr/bin/id', args: ['-P', String(uid)] } : { tool: 'getent', args: ['passwd', String(uid)] };
    line = execFileSync(lookup.tool, lookup.args, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  } catch {
    // no such user in the name service
  }
  const user = parsePasswdLine(line);
  if (!user || user.uid !== uid) throw CardsmithError.keyed('permission', 'elevated.noAccount', { uid }, { uid });
  return user;
}

/** The environment of a card job: nothing of root's, the user's home, Cardsmith's own settings. */
export function cardJobEnvironment(user: InvokingUser, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    LANG: 'C.UTF-8',
  };
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && (name.startsWith('CARDSMITH_') || name === 'ELECTRON_RUN_AS_NODE')) out[name] = value;
  }
  return out;
}
