/**
 * The Review lists a build's customisation from planBuild's customisedFiles: every setting, even
 * given alone, names the root filesystem file it writes there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readFiles } from '../../../electron/engine/compose/customise-tree';
import type { Customise } from '../../../electron/engine/customise/model';
import { customisedFiles, planCustomisation } from '../../../electron/engine/customise/plan';
import { filesToRead, RootfsView } from '../../../electron/engine/customise/rootfs-view';
import { treeFromDirectory } from '../../../electron/engine/fs/tree-dir';
import { makeDebianRootfs } from './rootfs-fixture';
import { HASH, KEY, PSK } from './settings-fixture';

const dir = mkdtempSync(join(tmpdir(), 'cardsmith-customised-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EACH: [string, Customise, string][] = [
  ['host name', { hostname: 'lab-7' }, '/etc/hostname'],
  ['user', { user: { name: 'ada', sudo: false } }, '/etc/passwd'],
  ['password', { user: { name: 'ada', passwordHash: HASH, sudo: false } }, '/etc/shadow'],
  ['sudo', { user: { name: 'ada', sudo: true } }, '/etc/group'],
  ['SSH key', { user: { name: 'ada', sudo: false }, ssh: { enabled: true, authorizedKeys: [KEY], passwordLogin: false } }, '/home/ada/.ssh/authorized_keys'],
  ['SSH on', { ssh: { enabled: true, passwordLogin: false } }, '/etc/systemd/system/multi-user.target.wants/ssh.service'],
  ['SSH password login', { ssh: { enabled: true, passwordLogin: true } }, '/etc/ssh/sshd_config.d/10-cardsmith.conf'],
  ['Wi-Fi', { wifi: { ssid: 'Lab net', psk: PSK, hidden: false } }, '/etc/NetworkManager/system-connections/cardsmith-wifi.nmconnection'],
  ['time zone', { timezone: 'Europe/London' }, '/etc/localtime'],
  ['locale', { locale: 'en_GB.UTF-8' }, '/etc/default/locale'],
  ['keymap', { keymap: 'gb' }, '/etc/default/keyboard'],
];

it.each(EACH)('%s alone is listed by the file it writes', async (_name, settings, path) => {
  const folder = join(dir, _name.replace(/\W/g, '-'));
  makeDebianRootfs(folder);
  const source = await treeFromDirectory(folder);
  const view = new RootfsView(source.tree, await readFiles(source, filesToRead(source.tree)));
  expect(customisedFiles(planCustomisation(view, settings, { timestamp: 1_700_000_000, seed: 'test' }))).toContain(path);
});
