/**
 * SSH public keys as authorized_keys holds them: `type base64-blob [comment]`. The blob is decoded
 * and walked (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709, OpenSSH PROTOCOL.u2f): its first string must
 * repeat the type, and the fields that type has must fill it exactly — so a truncated paste, a
 * private key or a key with a swapped type is refused before it is written to a card.
 */
import { CardsmithError } from '../errors';
import { message, type MessageKey, type ParamsOf } from '../messages';

/** The fields (SSH wire strings / mpints) after the type, per key type. */
const KEY_FIELDS: Record<string, { fields: number; curve?: string }> = {
  'ssh-ed25519': { fields: 1 },
  'ssh-rsa': { fields: 2 },
  'ecdsa-sha2-nistp256': { fields: 2, curve: 'nistp256' },
  'ecdsa-sha2-nistp384': { fields: 2, curve: 'nistp384' },
  'ecdsa-sha2-nistp521': { fields: 2, curve: 'nistp521' },
  'sk-ssh-ed25519@openssh.com': { fields: 2 },
  'sk-ecdsa-sha2-nistp256@openssh.com': { fields: 3, curve: 'nistp256' },
};
export const SSH_KEY_TYPES = Object.keys(KEY_FIELDS);

export interface SshKey {
  readonly type: string;
  readonly blob: Uint8Array;
  readonly comment: string;
}

function decodeBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
}

/** The wire strings of a blob, or the byte offset where one runs past the end. */
function splitStrings(blob: Uint8Array): { strings: Uint8Array[] } | { badOffset: number } {
  const strings: Uint8Array[] = [];
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  for (let at = 0; at < blob.length; ) {
    if (at + 4 > blob.length) return { badOffset: at };
    const length = view.getUint32(at);
    if (at + 4 + length > blob.length) return { badOffset: at };
    strings.push(blob.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return { strings };
}

/** Parses one public key line; `where` names it in errors (a file and line, or a field). */
export function parseSshKey(line: string, where: string): SshKey {
  // Every `ssh.*` template starts with `where`, which this adds.
  const bad = <K extends MessageKey>(key: K, params: Omit<ParamsOf<K>, 'where'>, details: Record<string, unknown> = {}): CardsmithError =>
    CardsmithError.keyed('bad-input', key, { ...params, where } as unknown as ParamsOf<K>, { where, ...details }, { hint: message('ssh.hint', { types: SSH_KEY_TYPES.join(', ') }) });
  const [type = '', body = '', ...rest] = line.trim().split(/\s+/);
  if (line.includes('PRIVATE KEY')) throw bad('ssh.private', {});
  const spec = KEY_FIELDS[type];
  if (!spec) throw bad('ssh.type', { type: type.slice(0, 40) });
  const blob = decodeBase64(body);
  if (!blob) throw bad('ssh.base64', {});
  const split = splitStrings(blob);
  if ('badOffset' in split) throw bad('ssh.truncated', { offset: split.badOffset }, { offset: split.badOffset });
  const [inner, ...fields] = split.strings;
  const innerType = new TextDecoder().decode(inner ?? new Uint8Array());
  if (innerType !== type) throw innerType ? bad('ssh.innerType', { type, inner: innerType.slice(0, 40) }) : bad('ssh.innerEmpty', { type });
  if (fields.length !== spec.fields) throw bad('ssh.fields', { type, expected: spec.fields, count: fields.length });
  if (spec.curve && new TextDecoder().decode(fields[0]) !== spec.curve) throw bad('ssh.curve', { type, curve: spec.curve });
  if ((type === 'ssh-ed25519' || type === 'sk-ssh-ed25519@openssh.com') && fields[0]!.length !== 32) {
    throw bad('ssh.ed25519', { size: fields[0]!.length });
  }
  return { type, blob, comment: rest.join(' ') };
}

/** The key in canonical one-line form (type, blob, comment). */
export function formatSshKey(key: SshKey): string {
  const body = btoa(Array.from(key.blob, (byte) => String.fromCharCode(byte)).join(''));
  return key.comment ? `${key.type} ${body} ${key.comment}` : `${key.type} ${body}`;
}

/** Every key of an authorized_keys-style text (blank lines and # comments skipped). */
export function parseSshKeys(text: string, where: string): SshKey[] {
  return text
    .split(/\r?\n/)
    .map((line, index) => ({ line: line.trim(), index }))
    .filter(({ line }) => line !== '' && !line.startsWith('#'))
    .map(({ line, index }) => parseSshKey(line, `${where} line ${index + 1}`));
}
