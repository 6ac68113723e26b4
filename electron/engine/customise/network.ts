/**
 * Wi-Fi for the network stack the rootfs has, first match wins: NetworkManager (a keyfile, 0600),
 * netplan (a yaml, 0600), systemd-networkd with wpa_supplicant@wlan0, or ifupdown with
 * wpa_supplicant's hooks. The key is always the 64-hex PSK, never the passphrase. The regulatory
 * country goes on the kernel command line (cfg80211.ieee80211_regdom), which every stack honours.
 */
import { guidFromSeed } from '../disk/guid';
import { CardsmithError } from '../errors';
import { message } from '../messages';
import type { Customise } from './model';
import { systemdUnit } from './system';
import type { Edit, RootfsView } from './rootfs-view';

type Wifi = NonNullable<Customise['wifi']>;
export type NetworkStack = 'networkmanager' | 'netplan' | 'networkd' | 'ifupdown';

const IFACE = 'wlan0';
const enc = new TextEncoder();
const secret = (path: string, text: string): Edit => ({ kind: 'file', path, mode: 0o600, uid: 0, gid: 0, content: enc.encode(text) });
const plain = (path: string, text: string): Edit => ({ kind: 'file', path, mode: 0o644, uid: 0, gid: 0, content: enc.encode(text) });
const link = (path: string, target: string): Edit => ({ kind: 'symlink', path, target, uid: 0, gid: 0 });

export function networkStack(view: RootfsView): NetworkStack | null {
  if (view.exists('usr/sbin/NetworkManager') && view.isDir('etc/NetworkManager')) return 'networkmanager';
  if (view.isDir('etc/netplan') && (view.exists('usr/sbin/netplan') || view.exists('usr/share/netplan'))) return 'netplan';
  if (view.exists('usr/sbin/wpa_supplicant') && systemdUnit(view, ['wpa_supplicant@.service']) && systemdUnit(view, ['systemd-networkd.service'])) return 'networkd';
  if (view.exists('sbin/ifup') && view.exists('usr/sbin/wpa_supplicant') && view.text('etc/network/interfaces') !== null) return 'ifupdown';
  return null;
}

/** An SSID as wpa_supplicant.conf reads it: quoted text, or hex when it holds a quote or a non-ASCII byte. */
function supplicantSsid(ssid: string): string {
  return /^[\x20-\x7e]*$/.test(ssid) && !ssid.includes('"') ? `"${ssid}"` : Array.from(enc.encode(ssid), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * An SSID for ifupdown's wpa-ssid: Debian's hook strips one pair of quotes and quotes the value
 * again for wpa_cli, so it is always quoted text; ifupdown trims the line, so an SSID with
 * leading or trailing blanks or control bytes cannot be carried.
 */
function ifupdownSsid(ssid: string): string {
  if ([...ssid].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f) || ssid.trim() !== ssid) {
    throw CardsmithError.keyed('bad-input', 'rootfs.oddSsid', {}, { field: 'wifi.ssid' }, { hint: message('rootfs.oddSsidHint') });
  }
  return `"${ssid}"`;
}

/** NetworkManager keyfile: a plain SSID as text, anything else as its byte list ("65;66;"). */
function keyfileSsid(ssid: string): string {
  return /^[A-Za-z0-9 _.@+-]*$/.test(ssid) && ssid.trim() === ssid ? ssid : `${Array.from(enc.encode(ssid)).join(';')};`;
}

const yamlString = (text: string): string => JSON.stringify(text);

export function planWifi(view: RootfsView, wifi: Wifi, seed: string): { edits: Edit[]; stack: NetworkStack } {
  const stack = networkStack(view);
  if (!stack) {
    throw CardsmithError.keyed('bad-input', 'rootfs.noNetworkStack', {}, { field: 'wifi' }, { hint: message('rootfs.noNetworkStackHint') });
  }
  switch (stack) {
    case 'networkmanager': {
      const text = [
        '[connection]',
        'id=cardsmith-wifi',
        `uuid=${guidFromSeed(seed, `nm-wifi:${wifi.ssid}`).toLowerCase()}`,
        'type=wifi',
        '',
        '[wifi]',
        'mode=infrastructure',
        `ssid=${keyfileSsid(wifi.ssid)}`,
        ...(wifi.hidden ? ['hidden=true'] : []),
        '',
        '[wifi-security]',
        'key-mgmt=wpa-psk',
        `psk=${wifi.psk}`,
        '',
        '[ipv4]',
        'method=auto',
        '',
        '[ipv6]',
        'method=auto',
        '',
      ].join('\n');
      return { stack, edits: [secret('etc/NetworkManager/system-connections/cardsmith-wifi.nmconnection', text)] };
    }
    case 'netplan': {
      const text = [
        'network:',
        '  version: 2',
        '  wifis:',
        `    ${IFACE}:`,
        '      dhcp4: true',
        ...(wifi.country ? [`      regulatory-domain: ${yamlString(wifi.country)}`] : []),
        '      access-points:',
        `        ${yamlString(wifi.ssid)}:`,
        `          password: ${yamlString(wifi.psk)}`,
        ...(wifi.hidden ? ['          hidden: true'] : []),
        '',
      ].join('\n');
      return { stack, edits: [secret('etc/netplan/50-cardsmith-wifi.yaml', text)] };
    }
    case 'networkd': {
      const supplicant = systemdUnit(view, ['wpa_supplicant@.service'])!;
      const networkd = systemdUnit(view, ['systemd-networkd.service'])!;
      return {
        stack,
        edits: [
          secret(`etc/wpa_supplicant/wpa_supplicant-${IFACE}.conf`, supplicantConf(wifi)),
          plain('etc/systemd/network/25-cardsmith-wifi.network', `[Match]\nName=${IFACE}\n\n[Network]\nDHCP=yes\n`),
          link(`etc/systemd/system/multi-user.target.wants/wpa_supplicant@${IFACE}.service`, supplicant),
          link('etc/systemd/system/multi-user.target.wants/systemd-networkd.service', networkd),
        ],
      };
    }
    case 'ifupdown': {
      const interfaces = view.text('etc/network/interfaces') ?? '';
      if (!/^\s*source(-directory)?\s+\/etc\/network\/interfaces\.d/m.test(interfaces)) {
        throw CardsmithError.keyed('bad-input', 'rootfs.noInterfacesD', {}, { field: 'wifi', path: '/etc/network/interfaces' });
      }
      const text = [`allow-hotplug ${IFACE}`, `iface ${IFACE} inet dhcp`, `    wpa-ssid ${ifupdownSsid(wifi.ssid)}`, `    wpa-psk ${wifi.psk}`, ...(wifi.hidden ? ['    wpa-scan-ssid 1'] : []), ''].join('\n');
      return { stack, edits: [secret(`etc/network/interfaces.d/cardsmith-${IFACE}`, text)] };
    }
  }
}

function supplicantConf(wifi: Wifi): string {
  return [
    'ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev',
    'update_config=1',
    ...(wifi.country ? [`country=${wifi.country}`] : []),
    '',
    'network={',
    `    ssid=${supplicantSsid(wifi.ssid)}`,
    `    psk=${wifi.psk}`,
    ...(wifi.hidden ? ['    scan_ssid=1'] : []),
    '}',
    '',
  ].join('\n');
}
