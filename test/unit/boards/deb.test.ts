import { describe, expect, it } from 'vitest';
import { parseAr } from '../../../electron/engine/boards/deb';

function ar(members: readonly [string, string][]): Uint8Array {
  let out = '!<arch>\n';
  for (const [name, body] of members) {
    out += `${`${name}/`.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(body.length).padEnd(10)}\`\n${body}`;
    if (body.length % 2) out += '\n';
  }
  return new TextEncoder().encode(out);
}

describe('parseAr', () => {
  it('lists members with their body offsets, skipping odd-length padding', () => {
    const bytes = ar([
      ['debian-binary', '2.0\n'],
      ['control.tar.xz', 'abc'],
      ['data.tar.xz', 'defg'],
    ]);
    const members = parseAr(bytes);
    expect(members.map((member) => [member.name, member.size])).toEqual([
      ['debian-binary', 4],
      ['control.tar.xz', 3],
      ['data.tar.xz', 4],
    ]);
    const data = members[2]!;
    expect(new TextDecoder().decode(bytes.subarray(data.offset, data.offset + data.size))).toBe('defg');
  });

  it('refuses a file that is not an ar archive', () => {
    expect(() => parseAr(new TextEncoder().encode('PK\u0003\u0004 not a deb'), 'x.deb')).toThrow(/x.deb is not a Debian package/);
  });

  it('refuses a member that runs past the end', () => {
    const bytes = ar([['data.tar.xz', 'defg']]);
    expect(() => parseAr(bytes.subarray(0, bytes.length - 2), 'cut.deb')).toThrow(/runs past the end/);
  });
});
