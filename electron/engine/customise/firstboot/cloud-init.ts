/**
 * cloud-init's NoCloud seed on the boot partition (os_list `init_format: cloudinit` and
 * `cloudinit-rpi`, Ubuntu's preinstalled server images): `user-data` (#cloud-config),
 * `network-config` (netplan-style version 2) and `meta-data` (the instance id: a new one makes
 * cloud-init run its once-per-instance modules again). Every string is written as a JSON string,
 * which YAML reads as a double-quoted scalar, so no value can break the document's structure.
 */
import type { Customise } from '../model';

const q = (text: string): string => JSON.stringify(text);

export function userData(settings: Customise): string {
  const lines = ['#cloud-config', '# Written by Cardsmith.'];
  if (settings.hostname) lines.push(`hostname: ${q(settings.hostname)}`, 'manage_etc_hosts: true');
  const keys = (settings.ssh?.authorizedKeys ?? []).map((k) => k.trim());
  if (settings.user) {
    const u = settings.user;
    lines.push('users:', `  - name: ${q(u.name)}`, '    shell: /bin/bash');
    if (u.passwordHash) lines.push(`    passwd: ${q(u.passwordHash)}`, '    lock_passwd: false');
    if (u.sudo) lines.push('    groups: [sudo]', `    sudo: ${q('ALL=(ALL) NOPASSWD:ALL')}`);
    if (keys.length > 0) lines.push('    ssh_authorized_keys:', ...keys.map((k) => `      - ${q(k)}`));
  } else if (keys.length > 0) {
    // Without a user of our own the keys go to the image's default user.
    lines.push('ssh_authorized_keys:', ...keys.map((k) => `  - ${q(k)}`));
  }
  if (settings.ssh?.passwordLogin !== undefined) lines.push(`ssh_pwauth: ${settings.ssh.passwordLogin}`);
  if (settings.ssh?.enabled === false) lines.push('runcmd:', '  - [systemctl, disable, --now, ssh]');
  if (settings.timezone) lines.push(`timezone: ${q(settings.timezone)}`);
  if (settings.locale) lines.push(`locale: ${q(settings.locale)}`);
  if (settings.keymap) {
    const [layout, variant] = settings.keymap.split('-');
    lines.push('keyboard:', `  layout: ${q(layout!)}`, ...(variant ? [`  variant: ${q(variant)}`] : []));
  }
  return `${lines.join('\n')}\n`;
}

/** The Wi-Fi network (and wired DHCP, which the seed would otherwise replace), or null without Wi-Fi. */
export function networkConfig(settings: Customise): string | null {
  const wifi = settings.wifi;
  if (!wifi) return null;
  const lines = [
    'network:',
    '  version: 2',
    '  ethernets:',
    '    eth0:',
    '      dhcp4: true',
    '      optional: true',
    '  wifis:',
    '    wlan0:',
    '      dhcp4: true',
    '      optional: true',
    ...(wifi.country ? [`      regulatory-domain: ${q(wifi.country)}`] : []),
    '      access-points:',
    `        ${q(wifi.ssid)}:`,
    // The 64-hex PBKDF2 key; netplan passes it to wpa_supplicant as a raw PSK.
    `          password: ${q(wifi.psk)}`,
    ...(wifi.hidden ? ['          hidden: true'] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** `instanceId` should change with every customisation so cloud-init applies it afresh. */
export function metaData(settings: Customise, instanceId: string): string {
  return `instance-id: ${q(instanceId)}\n${settings.hostname ? `local-hostname: ${q(settings.hostname)}\n` : ''}`;
}
