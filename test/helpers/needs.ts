/**
 * Tests that need root, a host tool, QEMU or Chromium declare it here. Locally a missing need
 * skips the suite and prints why; in CI it fails, because CI installs everything. Every `tool:`
 * need must be a row of scripts/host-needs.tsv (the table setup-host.sh installs from), so a test
 * cannot ask for a tool that a fresh machine would never get.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { which } from '../../electron/engine/tools';

export { which };

export type Need = 'root' | `tool:${string}` | `file:${string}`;

export const HOST_NEEDS_FILE = join(__dirname, '..', '..', 'scripts', 'host-needs.tsv');

/** scripts/host-needs.tsv: command or absolute path → the Debian package that provides it. */
export function readHostNeeds(text = readFileSync(HOST_NEEDS_FILE, 'utf8')): Map<string, string> {
  const table = new Map<string, string>();
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const fields = line.split('\t');
    if (fields.length !== 2 || !fields[0] || !fields[1]) throw new Error(`${HOST_NEEDS_FILE} line ${index + 1}: expected "command<TAB>debian-package", got ${JSON.stringify(line)}`);
    table.set(fields[0], fields[1]);
  });
  return table;
}

const HOST_NEEDS = readHostNeeds();

/** CI is on for any non-empty value except 0 and false (CI=1, CI=true, CI=yes all count). */
export function inCI(value: string | undefined): boolean {
  return value !== undefined && value !== '' && !['0', 'false'].includes(value.toLowerCase());
}

export function missingNeeds(needs: readonly Need[], table: ReadonlyMap<string, string> = HOST_NEEDS): string[] {
  const missing: string[] = [];
  for (const need of needs) {
    if (need === 'root') {
      if (process.getuid?.() !== 0) missing.push('root');
    } else if (need.startsWith('tool:')) {
      const tool = need.slice(5);
      const pkg = table.get(tool);
      if (pkg === undefined) throw new Error(`the test needs the ${tool} command, which scripts/host-needs.tsv does not list: add "${tool}<TAB>its Debian package" there`);
      if (!which(tool)) missing.push(`the ${tool} command (Debian package ${pkg})`);
    } else {
      const path = need.slice(5);
      try {
        accessSync(path, constants.R_OK);
      } catch {
        const pkg = table.get(path);
        missing.push(pkg ? `${path} (Debian package ${pkg})` : `${path} (run npm run fixtures)`);
      }
    }
  }
  return missing;
}

/** `describe` that runs only when every need is met (and fails in CI when one is not). */
export function describeWith(needs: readonly Need[], name: string, body: () => void): void {
  const missing = missingNeeds(needs);
  if (missing.length === 0) {
    describe(name, body);
  } else if (inCI(process.env.CI)) {
    describe(name, () => {
      it('has what it needs', () => {
        throw new Error(`missing in CI: ${missing.join(', ')}`);
      });
    });
  } else {
    console.warn(`skipping "${name}": needs ${missing.join(', ')}`);
    describe.skip(name, body);
  }
}
