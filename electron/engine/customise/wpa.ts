/**
 * The WPA-PSK key as wpa_supplicant stores it (`psk=` without quotes): PBKDF2-HMAC-SHA1 of the
 * passphrase, salted with the SSID, 4096 iterations, 32 bytes, in hex (IEEE 802.11i, H.4). On
 * WebCrypto, so the renderer derives it and the passphrase never leaves the page.
 */
import { CardsmithError } from '../errors';

export const MIN_PASSPHRASE = 8;
export const MAX_PASSPHRASE = 63;
export const MAX_SSID_BYTES = 32;

export function ssidBytes(ssid: string): number {
  return new TextEncoder().encode(ssid).length;
}

/** Checks an SSID: 1–32 bytes of UTF-8 (the 802.11 limit). */
export function checkSsid(ssid: string): void {
  const bytes = ssidBytes(ssid);
  if (bytes < 1 || bytes > MAX_SSID_BYTES) {
    throw CardsmithError.keyed('bad-input', 'wifi.ssidLength', { bytes, max: MAX_SSID_BYTES }, { field: 'wifi.ssid', bytes });
  }
}

/** The 64-hex key for `ssid` and an 8–63 character ASCII passphrase. */
export async function wpaPsk(ssid: string, passphrase: string): Promise<string> {
  checkSsid(ssid);
  if (passphrase.length < MIN_PASSPHRASE || passphrase.length > MAX_PASSPHRASE || !/^[\x20-\x7e]*$/.test(passphrase)) {
    throw CardsmithError.keyed('bad-input', 'wifi.passphrase', { min: MIN_PASSPHRASE, max: MAX_PASSPHRASE, length: passphrase.length }, {
      field: 'wifi.psk',
      length: passphrase.length,
    });
  }
  const enc = new TextEncoder();
  const key = await globalThis.crypto.subtle.importKey('raw', enc.encode(passphrase), 'PBKDF2', false, ['deriveBits']);
  const bits = await globalThis.crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-1', salt: enc.encode(ssid), iterations: 4096 }, key, 256);
  return Array.from(new Uint8Array(bits), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
