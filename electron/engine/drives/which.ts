/** Finds a host tool on PATH (plus the sbin folders a non-login root shell may lack). */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function which(tool: string): string | null {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return null;
}
