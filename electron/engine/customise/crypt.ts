/**
 * sha512-crypt (`$6$`), written from Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512"
 * specification, on WebCrypto so the renderer and Node share it: the password is hashed before it
 * leaves the renderer or the CLI, and only the hash travels. yescrypt (`$y$`) hashes made elsewhere
 * (mkpasswd) are accepted as they are; Cardsmith does not compute them.
 */

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const DEFAULT_ROUNDS = 5000;
const MIN_ROUNDS = 1000;
const MAX_ROUNDS = 999_999_999;
const MAX_SALT = 16;

async function sha512(...parts: Uint8Array[]): Promise<Uint8Array> {
  const length = parts.reduce((n, p) => n + p.length, 0);
  const joined = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-512', joined));
}

/** `length` bytes of `digest` repeated (the spec's "for each block of 64 bytes, then the rest"). */
function repeatTo(digest: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += digest.length) out.set(digest.subarray(0, Math.min(digest.length, length - at)), at);
  return out;
}

/**
 * The final digest's bytes are emitted in a fixed interleaving, three bytes to four characters,
 * least significant six bits first: triples (i, i+21, i+42) rotated by i mod 3, then byte 63 alone.
 */
function encode(digest: Uint8Array): string {
  let out = '';
  const put = (word: number, chars: number): void => {
    for (let i = 0; i < chars; i++, word >>>= 6) out += ITOA64[word & 63];
  };
  for (let i = 0; i < 21; i++) {
    const triple = [i, i + 21, i + 42];
    const r = i % 3;
    const [a, b, c] = [triple[r]!, triple[(r + 1) % 3]!, triple[(r + 2) % 3]!];
    put((digest[a]! << 16) | (digest[b]! << 8) | digest[c]!, 4);
  }
  put(digest[63]!, 2);
  return out;
}

/** crypt(3) with a `$6$[rounds=N$]salt` setting; `rounds` is written only when not the default, as glibc does. */
export async function sha512Crypt(password: string, salt: string, rounds = DEFAULT_ROUNDS): Promise<string> {
  const enc = new TextEncoder();
  const p = enc.encode(password);
  const s = enc.encode(salt.slice(0, MAX_SALT));
  const n = Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, Math.floor(rounds)));

  const b = await sha512(p, s, p);
  const aParts: Uint8Array[] = [p, s, repeatTo(b, p.length)];
  for (let len = p.length; len > 0; len >>>= 1) aParts.push(len & 1 ? b : p);
  let c = await sha512(...aParts);

  const pBytes = repeatTo(await sha512(...Array.from({ length: p.length }, () => p)), p.length);
  const sBytes = repeatTo(await sha512(...Array.from({ length: 16 + c[0]! }, () => s)), s.length);

  for (let i = 0; i < n; i++) {
    const parts: Uint8Array[] = [i & 1 ? pBytes : c];
    if (i % 3 !== 0) parts.push(sBytes);
    if (i % 7 !== 0) parts.push(pBytes);
    parts.push(i & 1 ? c : pBytes);
    c = await sha512(...parts);
  }
  const setting = n === DEFAULT_ROUNDS ? '$6$' : `$6$rounds=${n}$`;
  return `${setting}${new TextDecoder().decode(s)}$${encode(c)}`;
}

/** A random 16-character salt from the crypt alphabet. */
export function randomSalt(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(MAX_SALT));
  return Array.from(bytes, (byte) => ITOA64[byte & 63]).join('');
}

/** Hashes a password for /etc/shadow with sha512-crypt and a random salt. */
export function hashPassword(password: string): Promise<string> {
  return sha512Crypt(password, randomSalt());
}

const SALT = '[./0-9A-Za-z]';
/** `$6$[rounds=N$]salt$86 chars`, the form glibc and libxcrypt write. */
const SHA512_CRYPT = new RegExp(`^\\$6\\$(rounds=[1-9][0-9]{0,8}\\$)?${SALT}{0,16}\\$${SALT}{86}$`);
/** `$y$params$salt$hash` as libxcrypt writes yescrypt (mkpasswd -m yescrypt). */
const YESCRYPT = new RegExp(`^\\$y\\$${SALT}+\\$${SALT}+\\$${SALT}{43}$`);

/** True for a hash /etc/shadow can hold that this module knows the shape of: sha512-crypt or yescrypt. */
export function isPasswordHash(text: string): boolean {
  return SHA512_CRYPT.test(text) || YESCRYPT.test(text);
}
