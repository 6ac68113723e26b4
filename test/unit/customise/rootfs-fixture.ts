/**
 * A small Debian-like root filesystem for customisation tests: account databases with a user at
 * uid 1000 already, sudo and shadow groups, /etc/skel, bash, systemd with ssh.service, a baked-in
 * host key, tzdata for Europe/London, and NetworkManager. Pieces can be left out to see refusals.
 */
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface FixtureOptions {
  readonly sudoGroup?: 'sudo' | 'wheel' | null;
  readonly sshd?: boolean;
  readonly network?: 'networkmanager' | 'networkd' | 'ifupdown' | 'netplan' | null;
  readonly tzdata?: boolean;
  /** Alpine-like: OpenRC instead of systemd, and no Debian marker files. */
  readonly openrc?: boolean;
}

function put(root: string, path: string, text: string, mode = 0o644): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
  chmodSync(join(root, path), mode);
}

/** Writes the rootfs under `root` (which must not exist yet). */
export function makeDebianRootfs(root: string, options: FixtureOptions = {}): void {
  const admin = options.sudoGroup === undefined ? 'sudo' : options.sudoGroup;
  put(root, 'etc/passwd', 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nexisting:x:1000:1000:,,,:/home/existing:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  put(root, 'etc/group', `root:x:0:\ndaemon:x:1:\n${admin ? `${admin}:x:27:existing\n` : ''}shadow:x:42:\nexisting:x:1000:\nnogroup:x:65534:\n`);
  put(root, 'etc/shadow', 'root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nexisting:!:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n', 0o640);
  put(root, 'etc/gshadow', `root:*::\ndaemon:*::\n${admin ? `${admin}:*::existing\n` : ''}shadow:*::\nexisting:!::\nnogroup:*::\n`, 0o640);
  put(root, 'etc/hosts', '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n');
  put(root, 'etc/hostname', 'debian\n');
  if (!options.openrc) put(root, 'etc/debian_version', '13.0\n');
  put(root, 'etc/skel/.bashrc', '# ~/.bashrc\n');
  put(root, 'etc/skel/.profile', '# ~/.profile\n');
  put(root, 'etc/skel/.config/app.conf', 'x=1\n', 0o600);
  put(root, 'bin/bash', '#!fake bash\n', 0o755);
  if (options.openrc) {
    put(root, 'sbin/openrc', 'fake openrc\n', 0o755);
    put(root, 'etc/init.d/sshd', '#!/sbin/openrc-run\n', 0o755);
    mkdirSync(join(root, 'etc/runlevels/default'), { recursive: true });
  } else {
    put(root, 'lib/systemd/systemd', 'fake systemd\n', 0o755);
    put(root, 'lib/systemd/system/systemd-networkd.service', '[Unit]\n');
  }
  if (options.sshd !== false) {
    put(root, 'usr/sbin/sshd', 'fake sshd\n', 0o755);
    if (!options.openrc) put(root, 'lib/systemd/system/ssh.service', '[Unit]\nDescription=OpenBSD Secure Shell server\n');
    put(root, 'etc/ssh/sshd_config', 'Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\n');
    put(root, 'etc/ssh/ssh_host_ed25519_key', 'BAKED PRIVATE KEY\n', 0o600);
    put(root, 'etc/ssh/ssh_host_ed25519_key.pub', 'ssh-ed25519 AAAA baked\n');
  }
  if (options.tzdata !== false) put(root, 'usr/share/zoneinfo/Europe/London', 'TZif2 fake\n');
  switch (options.network === undefined ? 'networkmanager' : options.network) {
    case 'networkmanager':
      put(root, 'usr/sbin/NetworkManager', 'fake\n', 0o755);
      mkdirSync(join(root, 'etc/NetworkManager/system-connections'), { recursive: true });
      break;
    case 'networkd':
      put(root, 'usr/sbin/wpa_supplicant', 'fake\n', 0o755);
      put(root, 'lib/systemd/system/wpa_supplicant@.service', '[Unit]\n');
      break;
    case 'ifupdown':
      put(root, 'sbin/ifup', 'fake\n', 0o755);
      put(root, 'usr/sbin/wpa_supplicant', 'fake\n', 0o755);
      put(root, 'etc/network/interfaces', 'source /etc/network/interfaces.d/*\nauto lo\niface lo inet loopback\n');
      break;
    case 'netplan':
      put(root, 'usr/sbin/netplan', 'fake\n', 0o755);
      mkdirSync(join(root, 'etc/netplan'), { recursive: true });
      break;
    case null:
      break;
  }
  symlinkSync('/usr/share/zoneinfo/Etc/UTC', join(root, 'etc/localtime'));
}
