/**
 * The first user, written the way useradd would: a passwd/shadow/group/gshadow entry each, a
 * free uid ≥ 1000 with a group of the same name (and number when free), membership of the sudo or
 * wheel group, a home copied from /etc/skel owned by the user, and ~/.ssh/authorized_keys.
 */
import { CardsmithError } from '../errors';
import { message } from '../messages';
import type { DirNode, FsNode } from '../fs/tree';
import type { Customise } from './model';
import { formatSshKey, parseSshKey } from './ssh-keys';
import type { Edit, RootfsView } from './rootfs-view';

const FIRST_UID = 1000;
const LAST_UID = 59999;
const enc = new TextEncoder();

interface Table {
  readonly path: string;
  readonly lines: string[][];
}

function readTable(view: RootfsView, path: string, required: boolean): Table | null {
  const text = view.text(path);
  if (text === null) {
    if (!required) return null;
    throw CardsmithError.keyed('bad-input', 'rootfs.noTable', { path: `/${path}` }, { path: `/${path}` });
  }
  const lines = text.split('\n').filter((line) => line !== '').map((line) => line.split(':'));
  return { path, lines };
}

const render = (table: Table): Uint8Array => enc.encode(table.lines.map((fields) => fields.join(':')).join('\n') + '\n');

function addMember(table: Table | null, group: string, column: number, user: string): void {
  const line = table?.lines.find((fields) => fields[0] === group);
  if (!line) return;
  const members = (line[column] ?? '').split(',').filter((m) => m !== '');
  if (!members.includes(user)) line[column] = [...members, user].join(',');
}

function freeId(taken: ReadonlySet<number>, preferred?: number): number {
  if (preferred !== undefined && !taken.has(preferred)) return preferred;
  for (let id = FIRST_UID; id <= LAST_UID; id++) if (!taken.has(id)) return id;
  throw CardsmithError.keyed('bad-input', 'rootfs.noFreeId', { first: FIRST_UID, last: LAST_UID });
}

export interface UserPlan {
  readonly edits: Edit[];
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

/** `days`: the shadow "last changed" field, days since the epoch of the build. */
export function planUser(view: RootfsView, settings: Customise, days: number): UserPlan | null {
  const user = settings.user;
  if (!user) {
    if (settings.ssh?.authorizedKeys?.length) throw CardsmithError.keyed('bad-input', 'rootfs.keysNeedUser', {}, { field: 'ssh.authorizedKeys' });
    return null;
  }
  const passwd = readTable(view, 'etc/passwd', true)!;
  const group = readTable(view, 'etc/group', true)!;
  const shadow = readTable(view, 'etc/shadow', false) ?? { path: 'etc/shadow', lines: [] };
  const gshadow = readTable(view, 'etc/gshadow', false);
  if (passwd.lines.some((f) => f[0] === user.name)) {
    throw CardsmithError.keyed('bad-input', 'rootfs.userExists', { name: user.name }, { field: 'user.name', path: '/etc/passwd' });
  }
  if (group.lines.some((f) => f[0] === user.name)) {
    throw CardsmithError.keyed('bad-input', 'rootfs.groupExists', { name: user.name }, { field: 'user.name', path: '/etc/group' });
  }
  const adminGroup = user.sudo ? ['sudo', 'wheel'].find((name) => group.lines.some((f) => f[0] === name)) : undefined;
  if (user.sudo && !adminGroup) {
    throw CardsmithError.keyed('bad-input', 'rootfs.noSudo', {}, { field: 'user.sudo', path: '/etc/group' }, { hint: message('rootfs.noSudoHint') });
  }

  const uid = freeId(new Set(passwd.lines.map((f) => Number(f[2]))));
  const gid = freeId(new Set(group.lines.map((f) => Number(f[2]))), uid);
  const home = `home/${user.name}`;
  const shell = ['bin/bash', 'usr/bin/bash'].some((p) => view.find(p)?.kind === 'file') ? '/bin/bash' : '/bin/sh';
  passwd.lines.push([user.name, 'x', String(uid), String(gid), '', `/${home}`, shell]);
  // '*' (rather than '!') leaves key login open when sshd does not use PAM.
  shadow.lines.push([user.name, user.passwordHash ?? '*', String(days), '0', '99999', '7', '', '', '']);
  group.lines.push([user.name, 'x', String(gid), '']);
  gshadow?.lines.push([user.name, '!', '', '']);
  if (adminGroup) {
    addMember(group, adminGroup, 3, user.name);
    addMember(gshadow, adminGroup, 3, user.name);
  }

  const shadowGid = Number(group.lines.find((f) => f[0] === 'shadow')?.[2] ?? 0);
  const edits: Edit[] = [
    { kind: 'file', path: 'etc/passwd', mode: 0o644, uid: 0, gid: 0, content: render(passwd) },
    { kind: 'file', path: 'etc/group', mode: 0o644, uid: 0, gid: 0, content: render(group) },
    { kind: 'file', path: 'etc/shadow', mode: 0o640, uid: 0, gid: shadowGid, content: render(shadow) },
    ...(gshadow ? [{ kind: 'file' as const, path: 'etc/gshadow', mode: 0o640, uid: 0, gid: shadowGid, content: render(gshadow) }] : []),
  ];
  if (!view.isDir('home')) edits.push({ kind: 'dir', path: 'home', mode: 0o755, uid: 0, gid: 0 });
  if (view.find('home', false)?.kind === 'symlink') {
    throw CardsmithError.keyed('bad-input', 'rootfs.homeSymlink', {}, { path: '/home' });
  }
  edits.push({ kind: 'dir', path: home, mode: 0o700, uid, gid });
  edits.push(...skelCopy(view, home, uid, gid));

  const keys = settings.ssh?.authorizedKeys ?? [];
  if (keys.length > 0) {
    const text = keys.map((line, i) => formatSshKey(parseSshKey(line, `ssh.authorizedKeys[${i}]`))).join('\n') + '\n';
    edits.push({ kind: 'dir', path: `${home}/.ssh`, mode: 0o700, uid, gid });
    edits.push({ kind: 'file', path: `${home}/.ssh/authorized_keys`, mode: 0o600, uid, gid, content: enc.encode(text) });
  }
  return { edits, uid, gid, home };
}

/** /etc/skel's files, folders and links under the new home, modes kept, owned by the user. */
function skelCopy(view: RootfsView, home: string, uid: number, gid: number): Edit[] {
  const skel = view.find('etc/skel');
  if (skel?.kind !== 'dir') return [];
  const edits: Edit[] = [];
  const visit = (dir: DirNode, rel: string): void => {
    for (const [name, node] of [...dir.entries].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const path = `${rel}/${name}`;
      copyNode(view, node, path, uid, gid, edits);
      if (node.kind === 'dir') visit(node, path);
    }
  };
  visit(skel, home);
  return edits;
}

function copyNode(view: RootfsView, node: FsNode, path: string, uid: number, gid: number, edits: Edit[]): void {
  switch (node.kind) {
    case 'dir':
      edits.push({ kind: 'dir', path, mode: node.mode & 0o7777, uid, gid });
      return;
    case 'symlink':
      edits.push({ kind: 'symlink', path, target: node.target, uid, gid });
      return;
    case 'file': {
      const content = view.bytes(node);
      if (!content) throw CardsmithError.keyed('bad-input', 'accounts.skelTooLarge', { path: path.split('/').slice(2).join('/'), size: node.size }, { path, bytes: node.size });
      edits.push({ kind: 'file', path, mode: node.mode & 0o777, uid, gid, content });
      return;
    }
    default:
      return;
  }
}
