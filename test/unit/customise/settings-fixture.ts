import { CustomiseSchema, type Customise } from '../../../electron/engine/customise/model';

export const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM/LK8qtQnjSqjiHOvDmQs0g2iypOSqYJJb8q19RfFfS me@host';
export const HASH = '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';
export const PSK = 'a'.repeat(64);

/** Every setting, with an SSID that would break naive quoting in sh, YAML and wpa_supplicant.conf. */
export const EVERYTHING: Customise = CustomiseSchema.parse({
  hostname: 'lab-pi-7',
  user: { name: 'ada', passwordHash: HASH, sudo: true },
  ssh: { enabled: true, authorizedKeys: [KEY], passwordLogin: false },
  wifi: { ssid: `Bob's "net": $(reboot) #1`, psk: PSK, country: 'GB', hidden: true },
  timezone: 'Europe/London',
  locale: 'en_GB.UTF-8',
  keymap: 'gb',
});

