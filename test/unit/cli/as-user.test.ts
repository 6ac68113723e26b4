/** Where `sudo cardsmith …` runs a request, and the paths and settings its user job gets. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { RequestSchema, type RequestInput } from '../../../electron/engine/api';
import { cardRoute, explainPermission, jobEnvironment, ROOT_LOGIN_NOTE, withAbsolutePaths } from '../../../electron/cli/as-user';

const cwd = mkdtempSync(join(tmpdir(), 'cardsmith-as-user-'));
writeFileSync(join(cwd, 'card.img'), '');
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const request = (input: RequestInput) => RequestSchema.parse(input);
const flash = request({ op: 'flash', source: 'card.img', device: '/dev/sdz' });

it('runs a card request as the invoking user only when root runs it for someone', () => {
  expect(cardRoute(flash, { SUDO_UID: '65534' }, 1000)).toEqual({ kind: 'in-process' });
  expect(cardRoute(request({ op: 'listBoards' }), { SUDO_UID: '65534' }, 0)).toEqual({ kind: 'in-process' });
  expect(cardRoute(flash, {}, 0)).toEqual({ kind: 'in-process', note: ROOT_LOGIN_NOTE });
  expect(cardRoute(flash, { SUDO_UID: '0' }, 0)).toEqual({ kind: 'in-process', note: ROOT_LOGIN_NOTE });
  expect(cardRoute(flash, { SUDO_UID: '65534' }, 0)).toMatchObject({ kind: 'as-user', user: { uid: 65534, name: 'nobody' } });
  expect(cardRoute(flash, { PKEXEC_UID: '65534', SUDO_UID: '0' }, 0)).toMatchObject({ kind: 'as-user', user: { uid: 65534 } });
  expect(() => cardRoute(flash, { SUDO_UID: '65534; rm' }, 0)).toThrow(/invalid user id/);
});

it('makes every local path absolute and leaves URLs, catalog ids and image: folders alone', () => {
  expect(withAbsolutePaths(flash, cwd)).toMatchObject({ source: join(cwd, 'card.img') });
  const paths = withAbsolutePaths(request({ op: 'flash', source: 'x/y.img.xz', bmap: 'y.bmap', loaderFrom: '../u-boot.deb', device: '/dev/sdz' }), cwd);
  expect(paths).toMatchObject({ source: join(cwd, 'x/y.img.xz'), bmap: join(cwd, 'y.bmap'), loaderFrom: join(cwd, '../u-boot.deb') });
  const kept = withAbsolutePaths(request({ op: 'flash', source: 'raspios-lite', loaderFrom: 'image:/usr/lib/u-boot', device: '/dev/sdz' }), cwd);
  expect(kept).toMatchObject({ source: 'raspios-lite', loaderFrom: 'image:/usr/lib/u-boot' });
  const url = 'http://127.0.0.1:8080/a.img';
  expect(withAbsolutePaths(request({ op: 'verify', source: url, loaderFrom: url, device: '/dev/sdz' }), cwd)).toMatchObject({ source: url, loaderFrom: url });
  const build = withAbsolutePaths(request({ op: 'flash', build: { board: 'b', rootfs: 'root.tar', kernel: 'k/Image', initrd: '/abs/initrd' }, device: '/dev/sdz' }), cwd);
  expect(build).toMatchObject({ build: { rootfs: join(cwd, 'root.tar'), kernel: join(cwd, 'k/Image'), initrd: '/abs/initrd' } });
  expect(withAbsolutePaths(request({ op: 'flashMany', source: 'card.img', devices: ['/dev/sdy', '/dev/sdz'] }), cwd)).toMatchObject({ source: join(cwd, 'card.img') });
  expect(withAbsolutePaths(request({ op: 'installLoader', board: 'b', target: '/dev/sdz', from: 'spl.bin' }), cwd)).toMatchObject({ from: join(cwd, 'spl.bin') });
});

it("resolves the job's path settings against the CLI's folder", () => {
  const env = jobEnvironment({ CARDSMITH_CACHE: 'cache', CARDSMITH_LOG_DIR: '/var/log/x', CARDSMITH_CATALOGS: 'mine.json, http://h/c.json', OTHER: 'o' }, cwd);
  expect(env).toMatchObject({ CARDSMITH_CACHE: join(cwd, 'cache'), CARDSMITH_LOG_DIR: '/var/log/x', CARDSMITH_CATALOGS: `${join(cwd, 'mine.json')},http://h/c.json`, OTHER: 'o' });
});

it('says whose rights a permission failure ran with', () => {
  const user = { uid: 1000, gid: 1000, name: 'ann', home: '/home/ann' };
  expect(explainPermission({ cause: 'permission', message: 'No permission for opening /root/a.img (EACCES)', hint: 'use sudo' }, user).hint).toMatch(/runs as ann \(uid 1000\).*readable by that user/);
  expect(explainPermission({ cause: 'io', message: 'x' }, user)).toEqual({ cause: 'io', message: 'x' });
});
