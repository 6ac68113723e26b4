import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MACHINES } from '../../boot/machines';
import { inCI, missingNeeds, readHostNeeds } from '../../helpers/needs';

const root = join(__dirname, '..', '..', '..');
const table = readHostNeeds();

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.tsx?$/.test(name) && join(root, dir, name) !== __filename)
    .map((name) => readFileSync(join(root, dir, name), 'utf8'));
}

describe('scripts/host-needs.tsv', () => {
  it('lists every tool a test asks for', () => {
    const asked = new Set<string>(Object.values(MACHINES).map((machine) => machine.qemu));
    for (const text of sources('test')) for (const [, tool] of text.matchAll(/tool:([\w.+-]+)/g)) asked.add(tool!);
    expect(asked.size).toBeGreaterThan(20);
    expect([...asked].filter((tool) => !table.has(tool))).toEqual([]);
  });

  // Tools the engine only probes for (`which('udisksctl')` before running it) are optional, and
  // macOS's own tools never run here: neither needs a row.
  it('lists every tool the engine runs', () => {
    const used = new Set<string>();
    const probed = new Set<string>(['diskutil']);
    for (const text of sources('electron/engine')) {
      for (const [, tool] of text.matchAll(/\brunTool\('([\w.+-]+)'/g)) used.add(tool!);
      for (const [, tool] of text.matchAll(/\bwhich\('([\w.+-]+)'\)/g)) probed.add(tool!);
    }
    expect(used).toContain('lsblk');
    expect([...used].filter((tool) => !table.has(tool) && !probed.has(tool))).toEqual([]);
  });

  it('rejects a row that is not command<TAB>package, naming the line', () => {
    expect(readHostNeeds('# comment\nxz\txz-utils\n\n')).toEqual(new Map([['xz', 'xz-utils']]));
    expect(() => readHostNeeds('xz\txz-utils\nzstd zstd\n')).toThrow(/line 2: expected "command<TAB>debian-package"/);
  });
});

describe('needs', () => {
  it('refuses a tool the table does not list, at once and by name', () => {
    expect(() => missingNeeds(['tool:sh', 'tool:cardsmith-unlisted'], new Map([['sh', 'dash']]))).toThrow(/cardsmith-unlisted.*host-needs\.tsv/);
  });

  it('names the package of a listed tool that is missing', () => {
    expect(missingNeeds(['tool:sh', 'tool:cardsmith-absent'], new Map([['sh', 'dash'], ['cardsmith-absent', 'cardsmith-pkg']]))).toEqual(['the cardsmith-absent command (Debian package cardsmith-pkg)']);
  });

  it('counts CI as set for any non-empty value but 0 and false', () => {
    for (const value of ['true', '1', 'yes', 'TRUE']) expect(inCI(value)).toBe(true);
    for (const value of [undefined, '', '0', 'false', 'False']) expect(inCI(value)).toBe(false);
  });
});
