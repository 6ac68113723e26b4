/**
 * Tests that need root, a host tool, QEMU or Chromium declare it here. Locally a missing need
 * skips the suite and prints why; with CI=true it fails, because CI installs everything.
 */
import { accessSync, constants } from 'node:fs';
import { describe, it } from 'vitest';
import { which } from '../../electron/engine/tools';

export { which };

export type Need = 'root' | `tool:${string}` | `file:${string}`;

export function missingNeeds(needs: readonly Need[]): string[] {
  const missing: string[] = [];
  for (const need of needs) {
    if (need === 'root') {
      if (process.getuid?.() !== 0) missing.push('root');
    } else if (need.startsWith('tool:')) {
      if (!which(need.slice(5))) missing.push(`the ${need.slice(5)} command`);
    } else {
      try {
        accessSync(need.slice(5), constants.R_OK);
      } catch {
        missing.push(`${need.slice(5)} (run npm run fixtures)`);
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
  } else if (process.env.CI === 'true') {
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
