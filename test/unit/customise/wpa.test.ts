import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { wpaPsk } from '../../../electron/engine/customise/wpa';
import { which } from '../../helpers/needs';

describe('wpaPsk', () => {
  it('gives the IEEE 802.11i annex H.4 test vectors', async () => {
    expect(await wpaPsk('IEEE', 'password')).toBe('f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e');
    expect(await wpaPsk('ThisIsASSID', 'ThisIsAPassword')).toBe('0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af');
  });

  it.runIf(which('python3'))("agrees with Python's hashlib.pbkdf2_hmac for a UTF-8 SSID", async () => {
    const ssid = 'Café ☕ net';
    const pass = 'a passphrase of 63 characters!!'.padEnd(63, '#');
    const script = 'import hashlib,sys; print(hashlib.pbkdf2_hmac("sha1", sys.argv[2].encode(), sys.argv[1].encode(), 4096, 32).hex())';
    const expected = execFileSync('python3', ['-c', script, ssid, pass]).toString().trim();
    expect(await wpaPsk(ssid, pass)).toBe(expected);
  });

  it('refuses a passphrase under 8 or over 63 characters and an SSID over 32 bytes, naming the field', async () => {
    await expect(wpaPsk('lab', 'short')).rejects.toMatchObject({ info: { cause: 'bad-input', details: { field: 'wifi.psk', length: 5 } } });
    await expect(wpaPsk('lab', 'x'.repeat(64))).rejects.toMatchObject({ info: { details: { field: 'wifi.psk' } } });
    await expect(wpaPsk('é'.repeat(17), 'longenough')).rejects.toMatchObject({ info: { cause: 'bad-input', details: { field: 'wifi.ssid', bytes: 34 } } });
    await expect(wpaPsk('', 'longenough')).rejects.toMatchObject({ info: { details: { field: 'wifi.ssid', bytes: 0 } } });
  });
});
