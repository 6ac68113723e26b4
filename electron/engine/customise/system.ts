/**
 * The machine-wide settings, each written where the rootfs's own tools would put it: host name,
 * time zone, locale and console keymap (Debian's /etc/default files when the rootfs is Debian-like,
 * systemd's /etc/locale.conf and /etc/vconsole.conf otherwise), and sshd enabled for the init
 * system found, its host keys left to be made on the card's first boot.
 */
import { CardsmithError } from '../errors';
import { message } from '../messages';
import type { Customise } from './model';
import type { Edit, RootfsView } from './rootfs-view';

const enc = new TextEncoder();
const root = (path: string, text: string, mode = 0o644): Edit => ({ kind: 'file', path, mode, uid: 0, gid: 0, content: enc.encode(text) });
const link = (path: string, target: string): Edit => ({ kind: 'symlink', path, target, uid: 0, gid: 0 });

export type InitSystem = 'systemd' | 'openrc' | 'unknown';

export function initSystem(view: RootfsView): InitSystem {
  if (['lib/systemd/systemd', 'usr/lib/systemd/systemd'].some((p) => view.find(p)?.kind === 'file')) return 'systemd';
  if (view.exists('sbin/openrc') || view.exists('sbin/openrc-run') || view.isDir('etc/runlevels')) return 'openrc';
  return 'unknown';
}

/** A systemd unit file shipped by a package, as the absolute path a link to it names. */
export function systemdUnit(view: RootfsView, names: readonly string[]): string | null {
  for (const name of names) {
    for (const dir of ['usr/lib/systemd/system', 'lib/systemd/system']) {
      if (view.find(`${dir}/${name}`)?.kind === 'file') return `/${dir}/${name}`;
    }
  }
  return null;
}

const isDebianLike = (view: RootfsView): boolean => view.exists('etc/debian_version') || view.exists('etc/default/locale') || view.exists('etc/default/keyboard');

export function planHostname(view: RootfsView, hostname: string): Edit[] {
  const hosts = view.text('etc/hosts') ?? '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n';
  const lines = hosts.split('\n').filter((line, i, all) => !(line === '' && i === all.length - 1));
  const entry = `127.0.1.1\t${hostname}`;
  const at = lines.findIndex((line) => /^127\.0\.1\.1\s/.test(line));
  if (at >= 0) lines[at] = entry;
  else lines.splice(lines.findIndex((line) => /^127\.0\.0\.1\s/.test(line)) + 1, 0, entry);
  return [root('etc/hostname', `${hostname}\n`), root('etc/hosts', `${lines.join('\n')}\n`)];
}

export function planRegion(view: RootfsView, settings: Customise): Edit[] {
  const edits: Edit[] = [];
  if (settings.timezone) {
    const zone = settings.timezone === 'UTC' && !view.exists('usr/share/zoneinfo/UTC') ? 'Etc/UTC' : settings.timezone;
    if (view.find(`usr/share/zoneinfo/${zone}`)?.kind !== 'file') {
      const hasTzdata = view.isDir('usr/share/zoneinfo');
      const details = { field: 'timezone', path: `/usr/share/zoneinfo/${zone}` };
      throw hasTzdata
        ? CardsmithError.keyed('bad-input', 'rootfs.noZone', { zone }, details)
        : CardsmithError.keyed('bad-input', 'rootfs.noTzdata', { zone }, details, { hint: message('rootfs.noTzdataHint') });
    }
    edits.push(link('etc/localtime', `/usr/share/zoneinfo/${zone}`), root('etc/timezone', `${zone}\n`));
  }
  if (settings.locale) {
    edits.push(isDebianLike(view) ? root('etc/default/locale', `LANG=${settings.locale}\n`) : root('etc/locale.conf', `LANG=${settings.locale}\n`));
  }
  if (settings.keymap) {
    const [layout, variant = ''] = settings.keymap.split(/-(.*)/s);
    edits.push(
      isDebianLike(view)
        ? root('etc/default/keyboard', `XKBMODEL="pc105"\nXKBLAYOUT="${layout}"\nXKBVARIANT="${variant}"\nXKBOPTIONS=""\nBACKSPACE="guess"\n`)
        : root('etc/vconsole.conf', `KEYMAP=${settings.keymap}\n`),
    );
  }
  return edits;
}

/** The unit that makes the host keys on first boot where the distribution ships none. */
const KEYGEN_UNIT = `[Unit]
Description=Make the SSH host keys (first boot of a Cardsmith card)
Before=ssh.service sshd.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
`;

export function planSsh(view: RootfsView, settings: Customise): Edit[] {
  const ssh = settings.ssh;
  if (!ssh || (!ssh.enabled && ssh.passwordLogin === undefined)) return [];
  if (!['usr/sbin/sshd', 'sbin/sshd'].some((p) => view.exists(p))) {
    throw CardsmithError.keyed('bad-input', 'rootfs.noSshd', {}, { field: 'ssh', path: '/usr/sbin/sshd' }, { hint: message('rootfs.noSshdHint') });
  }
  const edits: Edit[] = [];
  if (ssh.passwordLogin !== undefined) {
    const config = view.text('etc/ssh/sshd_config') ?? '';
    if (!/^\s*Include\s+\/etc\/ssh\/sshd_config\.d\/\*\.conf/im.test(config)) {
      throw CardsmithError.keyed('bad-input', 'rootfs.sshdNoDropIns', {}, { field: 'ssh.passwordLogin', path: '/etc/ssh/sshd_config' });
    }
    // sshd keeps the first value it reads: a low number wins over the distribution's own drop-ins.
    edits.push(root('etc/ssh/sshd_config.d/10-cardsmith.conf', `PasswordAuthentication ${ssh.passwordLogin ? 'yes' : 'no'}\nKbdInteractiveAuthentication ${ssh.passwordLogin ? 'yes' : 'no'}\n`));
  }
  if (!ssh.enabled) return edits;
  // Every card gets its own host keys: any baked into the rootfs are dropped.
  const sshDir = view.find('etc/ssh');
  if (sshDir?.kind === 'dir') {
    for (const name of sshDir.entries.keys()) if (/^ssh_host_.*_key(\.pub)?$/.test(name)) edits.push({ kind: 'remove', path: `etc/ssh/${name}` });
  }
  switch (initSystem(view)) {
    case 'systemd': {
      const unit = systemdUnit(view, ['ssh.service', 'sshd.service']);
      if (!unit) throw CardsmithError.keyed('bad-input', 'rootfs.noSshUnit', {}, { field: 'ssh.enabled' });
      const name = unit.split('/').pop()!;
      edits.push(link(`etc/systemd/system/multi-user.target.wants/${name}`, unit));
      // Fedora's sshd-keygen@ and Raspberry Pi OS's regenerate_ssh_host_keys already make them.
      if (!systemdUnit(view, ['sshd-keygen@.service', 'regenerate_ssh_host_keys.service'])) {
        edits.push(root('etc/systemd/system/cardsmith-ssh-keygen.service', KEYGEN_UNIT));
        edits.push(link('etc/systemd/system/multi-user.target.wants/cardsmith-ssh-keygen.service', '/etc/systemd/system/cardsmith-ssh-keygen.service'));
      }
      return edits;
    }
    case 'openrc':
      // Alpine's /etc/init.d/sshd makes missing host keys itself before starting.
      if (!view.exists('etc/init.d/sshd')) throw CardsmithError.keyed('bad-input', 'rootfs.noOpenrcSshd', {}, { field: 'ssh.enabled', path: '/etc/init.d/sshd' });
      return [...edits, link('etc/runlevels/default/sshd', '/etc/init.d/sshd')];
    case 'unknown':
      throw CardsmithError.keyed('bad-input', 'rootfs.unknownInit', {}, { field: 'ssh.enabled' });
  }
}
