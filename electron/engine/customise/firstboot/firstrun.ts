/**
 * The systemd first-boot mechanism of Raspberry Pi OS (os_list `init_format: systemd`), as
 * Raspberry Pi Imager uses it: a script on the boot partition, run once by systemd because the
 * kernel command line says `systemd.run=/boot/firstrun.sh` and boots `kernel-command-line.target`;
 * the script applies the settings, deletes itself, takes the hook off cmdline.txt and the unit
 * reboots into the configured system. Where the OS ships Raspberry Pi's helpers (imager_custom
 * from raspberrypi-sys-mods, userconf from userconf-pi) they are used, so the OS does it its own
 * way; otherwise the script does the same with plain tools. POSIX sh, checked by shellcheck.
 */
import { CardsmithError } from '../../errors';
import type { Customise } from '../model';

export const FIRSTRUN_HOOK = ' systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target';
const IMAGER_CUSTOM = '/usr/lib/raspberrypi-sys-mods/imager_custom';
const USERCONF = '/usr/lib/userconf-pi/userconf';

/** A single-quoted sh word: nothing inside is expanded. */
export function shQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function hex(text: string): string {
  return Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** cmdline.txt with the first-boot hook appended to its single line (an older hook replaced). */
export function hookedCmdline(current: string): string {
  const line = current.split(/\r?\n/).find((l) => l.trim() !== '');
  if (line === undefined) throw CardsmithError.keyed('bad-input', 'firstboot.emptyCmdline', {});
  return `${line.replace(/\s+systemd\.run.*$/, '').trimEnd()}${FIRSTRUN_HOOK}\n`;
}

function hostnamePart(hostname: string): string[] {
  const h = shQuote(hostname);
  return [
    'CURRENT_HOSTNAME=$(tr -d " \\t\\n\\r" </etc/hostname)',
    `if [ -x ${IMAGER_CUSTOM} ]; then`,
    `  ${IMAGER_CUSTOM} set_hostname ${h}`,
    'else',
    `  echo ${h} >/etc/hostname`,
    `  sed -i "s/127\\.0\\.1\\.1.*$CURRENT_HOSTNAME/127.0.1.1\\t"${h}"/g" /etc/hosts`,
    'fi',
  ];
}

function userPart(user: NonNullable<Customise['user']>): string[] {
  const name = shQuote(user.name);
  const lines = ['FIRSTUSER=$(getent passwd 1000 | cut -d: -f1)'];
  if (user.passwordHash) {
    lines.push(`if [ -x ${USERCONF} ]; then`, `  ${USERCONF} ${name} ${shQuote(user.passwordHash)}`, 'else');
  } else {
    lines.push('if true; then');
  }
  lines.push(
    '  if [ -z "$FIRSTUSER" ]; then',
    `    useradd -m -s /bin/bash ${name}`,
    `  elif [ "$FIRSTUSER" != ${name} ]; then`,
    `    usermod -l ${name} "$FIRSTUSER"`,
    `    usermod -m -d ${shQuote(`/home/${user.name}`)} ${name}`,
    `    groupmod -n ${name} "$FIRSTUSER"`,
    '    if [ -f /etc/lightdm/lightdm.conf ]; then',
    `      sed -i "s/^autologin-user=.*/autologin-user="${name}"/" /etc/lightdm/lightdm.conf`,
    '    fi',
    '    if [ -f /etc/systemd/system/getty@tty1.service.d/autologin.conf ]; then',
    `      sed -i "s/$FIRSTUSER/"${name}"/" /etc/systemd/system/getty@tty1.service.d/autologin.conf`,
    '    fi',
    '    if [ -f /etc/sudoers.d/010_pi-nopasswd ]; then',
    `      sed -i "s/^$FIRSTUSER /"${name}" /" /etc/sudoers.d/010_pi-nopasswd`,
    '    fi',
    '  fi',
  );
  if (user.passwordHash) lines.push(`  echo ${name}:${shQuote(user.passwordHash)} | chpasswd -e`);
  lines.push('fi');
  if (user.sudo) lines.push(`usermod -aG sudo ${name}`);
  return lines;
}

function sshPart(settings: Customise): string[] {
  const ssh = settings.ssh ?? {};
  const keys = ssh.authorizedKeys ?? [];
  const lines: string[] = [];
  if (ssh.enabled !== false && (ssh.enabled || keys.length > 0)) {
    lines.push(`if [ -x ${IMAGER_CUSTOM} ]; then`, `  ${IMAGER_CUSTOM} enable_ssh`, 'else', '  systemctl enable ssh', 'fi');
  }
  if (keys.length > 0) {
    // The keys go to the named user, else to the image's first user (uid 1000), as Imager does.
    const owner = settings.user ? shQuote(settings.user.name) : '1000';
    lines.push(
      `SSH_HOME=$(getent passwd ${owner} | cut -d: -f6)`,
      `SSH_GROUP=$(id -g ${owner})`,
      'if [ -n "$SSH_HOME" ]; then',
      `  install -o ${owner} -g "$SSH_GROUP" -m 700 -d "$SSH_HOME/.ssh"`,
      `  cat >"$SSH_HOME/.ssh/authorized_keys" <<'CARDSMITH_KEYS'`,
      ...keys.map((k) => k.trim()),
      'CARDSMITH_KEYS',
      `  chown ${owner}:"$SSH_GROUP" "$SSH_HOME/.ssh/authorized_keys"`,
      '  chmod 600 "$SSH_HOME/.ssh/authorized_keys"',
      'fi',
    );
  }
  if (ssh.passwordLogin !== undefined) {
    lines.push('mkdir -p /etc/ssh/sshd_config.d', `echo 'PasswordAuthentication ${ssh.passwordLogin ? 'yes' : 'no'}' >/etc/ssh/sshd_config.d/50-cardsmith.conf`);
  }
  return lines;
}

function wifiPart(wifi: NonNullable<Customise['wifi']>): string[] {
  const country = wifi.country ?? 'GB';
  return [
    `if [ -x ${IMAGER_CUSTOM} ]; then`,
    `  ${IMAGER_CUSTOM} set_wlan ${wifi.hidden ? '-h ' : ''}${shQuote(wifi.ssid)} ${shQuote(wifi.psk)} ${shQuote(country)}`,
    'else',
    `  cat >/etc/wpa_supplicant/wpa_supplicant.conf <<'CARDSMITH_WPA'`,
    `country=${country}`,
    'ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev',
    'ap_scan=1',
    'update_config=1',
    'network={',
    // The SSID in hex needs no escaping, whatever bytes it holds.
    `\tssid=${hex(wifi.ssid)}`,
    ...(wifi.hidden ? ['\tscan_ssid=1'] : []),
    `\tpsk=${wifi.psk}`,
    '}',
    'CARDSMITH_WPA',
    '  chmod 600 /etc/wpa_supplicant/wpa_supplicant.conf',
    '  rfkill unblock wifi',
    '  for f in /var/lib/systemd/rfkill/*:wlan; do',
    '    [ -e "$f" ] && echo 0 >"$f"',
    '  done',
    'fi',
  ];
}

function regionPart(settings: Customise): string[] {
  const lines: string[] = [];
  if (settings.keymap) {
    const [layout, variant = ''] = settings.keymap.split('-');
    lines.push(
      `if [ -x ${IMAGER_CUSTOM} ]; then`,
      `  ${IMAGER_CUSTOM} set_keymap ${shQuote(settings.keymap)}`,
      'else',
      `  cat >/etc/default/keyboard <<'CARDSMITH_KBD'`,
      'XKBMODEL="pc105"',
      `XKBLAYOUT="${layout}"`,
      `XKBVARIANT="${variant}"`,
      'XKBOPTIONS=""',
      'CARDSMITH_KBD',
      '  dpkg-reconfigure -f noninteractive keyboard-configuration',
      'fi',
    );
  }
  if (settings.timezone) {
    const tz = shQuote(settings.timezone);
    lines.push(
      `if [ -x ${IMAGER_CUSTOM} ]; then`,
      `  ${IMAGER_CUSTOM} set_timezone ${tz}`,
      'else',
      `  ln -sf /usr/share/zoneinfo/${settings.timezone} /etc/localtime`,
      `  echo ${tz} >/etc/timezone`,
      '  dpkg-reconfigure -f noninteractive tzdata',
      'fi',
    );
  }
  if (settings.locale) {
    const locale = settings.locale;
    lines.push(
      `if [ -f /etc/locale.gen ] && ! grep -q "^${locale} " /etc/locale.gen; then`,
      `  sed -i "s/^# *${locale} /${locale} /" /etc/locale.gen`,
      '  command -v locale-gen >/dev/null && locale-gen',
      'fi',
      `echo 'LANG=${locale}' >/etc/default/locale`,
    );
  }
  return lines;
}

/** The whole script for `settings`. */
export function firstrunScript(settings: Customise): string {
  const lines = [
    '#!/bin/sh',
    '# Written by Cardsmith; runs once on first boot, then removes itself.',
    '# Password hashes and SSIDs hold a literal "$" on purpose: they are single-quoted words.',
    '# shellcheck disable=SC2016',
    'set +e',
    '',
  ];
  if (settings.hostname) lines.push(...hostnamePart(settings.hostname));
  if (settings.user) lines.push(...userPart(settings.user));
  lines.push(...sshPart(settings));
  if (settings.wifi) lines.push(...wifiPart(settings.wifi));
  lines.push(...regionPart(settings));
  lines.push(
    'for d in /boot/firmware /boot; do',
    '  rm -f "$d/firstrun.sh"',
    `  [ -f "$d/cmdline.txt" ] && sed -i 's| systemd.run.*||g' "$d/cmdline.txt"`,
    'done',
    'exit 0',
    '',
  );
  return lines.join('\n');
}
