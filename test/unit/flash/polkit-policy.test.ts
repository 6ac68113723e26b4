import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { LINUX_LAUNCHER } from '../../../electron/main/elevation';

const root = join(__dirname, '..', '..', '..');

it('the polkit action names the launcher the package installs, and asks for an administrator every time', () => {
  const policy = readFileSync(join(root, 'electron/main/polkit/org.cardsmith.worker.policy'), 'utf8');
  expect(policy).toMatch(/<action id="org\.cardsmith\.worker">/);
  const execPath = /key="org\.freedesktop\.policykit\.exec\.path">([^<]+)</.exec(policy)?.[1];
  expect(execPath).toBe(`/opt/Cardsmith/resources/${LINUX_LAUNCHER}`);
  const builder = readFileSync(join(root, 'builder-config.yml'), 'utf8');
  expect(builder).toContain(`to: ${LINUX_LAUNCHER}`);
  expect(builder).toContain('electron/main/polkit/org.cardsmith.worker.policy=/usr/share/polkit-1/actions/org.cardsmith.worker.policy');
  // No kept authorisation: another process of the user could start a worker unasked meanwhile.
  for (const key of ['allow_any', 'allow_inactive', 'allow_active']) expect(policy).toMatch(new RegExp(`<${key}>auth_admin</${key}>`));
});
