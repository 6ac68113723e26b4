/**
 * A small but varied rootfs for build tests, made on the host and packed with GNU tar: a real
 * busybox, a fake Debian kernel + initrd, device trees where Debian puts them, a symlink, a hard
 * link pair, a setuid file, a unicode name, a fifo, a file owned by uid 1000, an empty file.
 * Also the tree walker the tests compare an extracted or mounted tree with.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fixturePath } from '../../helpers/fixtures';

export const KERNEL_VERSION = '6.1.0-50-arm64';
export const DTBS = ['broadcom/bcm2837-rpi-3-b.dtb', 'rockchip/rk3328-rock64.dtb', 'sun8i-h3-orangepi-plus.dtb'];

function bytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed * 2654435761 + 7;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function put(root: string, path: string, data: Buffer | string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), data);
}

/** Makes the rootfs folder under `dir`/root and returns the path of its .tar.gz. */
export function makeRootfs(dir: string): { folder: string; tarball: string } {
  const root = join(dir, 'root');
  mkdirSync(root, { recursive: true });
  put(root, `boot/vmlinuz-${KERNEL_VERSION}`, bytes(1_500_000, 1));
  put(root, `boot/initrd.img-${KERNEL_VERSION}`, bytes(700_000, 2));
  DTBS.forEach((dtb, i) => put(root, `usr/lib/linux-image-${KERNEL_VERSION}/${dtb}`, bytes(20_000 + i, 3 + i)));
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync(fixturePath('busybox-static_arm64', 'bin', 'busybox'), join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  symlinkSync('busybox', join(root, 'bin/sh'));
  put(root, 'etc/hostname', 'cardsmith\n');
  put(root, 'etc/empty', '');
  linkSync(join(root, 'etc/hostname'), join(root, 'etc/hostname.link'));
  put(root, 'usr/bin/su', bytes(4000, 9));
  chmodSync(join(root, 'usr/bin/su'), 0o4755);
  put(root, 'home/user/ünïcödé 名前.txt', 'hello\n');
  chownSync(join(root, 'home/user'), 1000, 1000);
  chownSync(join(root, 'home/user/ünïcödé 名前.txt'), 1000, 1000);
  execFileSync('mkfifo', [join(root, 'etc/fifo')]);
  const when = new Date('2024-03-01T12:00:00Z');
  for (const entry of walk(root)) if (entry.type !== 'symlink') utimesSync(join(root, entry.path), when, when);
  const tarball = join(dir, 'rootfs.tar.gz');
  execFileSync('tar', ['--numeric-owner', '--sort=name', '-czf', tarball, '-C', root, '.']);
  return { folder: root, tarball };
}

export interface Entry {
  readonly path: string;
  readonly type: 'file' | 'dir' | 'symlink' | 'fifo' | 'other';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size?: number;
  readonly links?: number;
  readonly mtime?: number;
  readonly target?: string;
  readonly sha256?: string;
}

/** Every entry under `root` (sorted), skipping lost+found. */
export function walk(root: string, path = ''): Entry[] {
  const out: Entry[] = [];
  for (const name of readdirSync(join(root, path)).sort()) {
    const rel = path ? `${path}/${name}` : name;
    if (rel === 'lost+found') continue;
    const full = join(root, rel);
    const st = lstatSync(full);
    const base = { path: rel, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    if (st.isSymbolicLink()) out.push({ ...base, type: 'symlink', target: readlinkSync(full) });
    else if (st.isDirectory()) {
      out.push({ ...base, type: 'dir', mtime: Math.floor(st.mtimeMs / 1000) });
      out.push(...walk(root, rel));
    } else if (st.isFile()) {
      out.push({ ...base, type: 'file', size: st.size, links: st.nlink, mtime: Math.floor(st.mtimeMs / 1000), sha256: createHash('sha256').update(readFileSync(full)).digest('hex') });
    } else out.push({ ...base, type: st.isFIFO() ? 'fifo' : 'other' });
  }
  return out;
}
