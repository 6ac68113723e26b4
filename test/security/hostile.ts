/**
 * A hostile same-user client of the elevated part, as a test can stage it: the worker runs as
 * root the way pkexec starts it for the user `nobody` (PKEXEC_UID), and what the attacker plants
 * (folders, symlinks, racing renames) is planted by processes running as `nobody`. Victims are
 * root-owned files in a root-owned folder that only a root process could change.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NOBODY } from '../helpers/worker-process';

export { NOBODY };

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** `size` bytes no two tests share by accident: sha256 of the seed and offset, repeated. */
export function pattern(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += 32) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, i);
  return out;
}

/** Every file and folder under `dir` with an owner other than `uid`. */
export function ownedByOthers(dir: string, uid: number): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (statSync(path).uid !== uid) out.push(path);
    if (entry.isDirectory()) out.push(...ownedByOthers(path, uid));
  }
  return out;
}

/** The environment `sudo` gives the CLI for nobody (`asUser: false`: a real root login, no invoking user). */
export function sudoEnvironment(asUser: boolean, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', CARDSMITH_PUBLIC_CATALOGS: '0', ...extra };
  if (asUser) Object.assign(env, { SUDO_UID: String(NOBODY), SUDO_GID: String(NOBODY), SUDO_USER: 'nobody' });
  return env;
}

const SETPRIV = ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups'];

/** Runs a command as nobody and waits; throws with its stderr when it fails. */
export function asNobody(command: string, args: readonly string[]): string {
  const run = spawnSync('setpriv', [...SETPRIV, command, ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`as nobody: ${command} ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

/** Starts a long-running command as nobody (a racer); kill it when done. */
export function spawnAsNobody(command: string, args: readonly string[]): ChildProcess {
  return spawn('setpriv', [...SETPRIV, command, ...args], { stdio: 'ignore' });
}

export interface Stage {
  /** Root-owned 0755 folder: victims and the test's own files. */
  readonly rootDir: string;
  /** nobody-owned 0755 folder: everything the attacker controls. */
  readonly attackerDir: string;
  /** A root-only file (0600) whose bytes must never reach a card or a message. */
  readonly secret: string;
  readonly secretBytes: Buffer;
  /** A root-owned file (0644) that must never change (a stand-in for a crontab). */
  readonly victim: string;
  remove(): void;
}

export function stage(): Stage {
  const rootDir = mkdtempSync(join(tmpdir(), 'cardsmith-root-'));
  chmodSync(rootDir, 0o755);
  const attackerDir = mkdtempSync(join(tmpdir(), 'cardsmith-attacker-'));
  chownSync(attackerDir, NOBODY, NOBODY);
  chmodSync(attackerDir, 0o755);
  const secret = join(rootDir, 'secret');
  const secretBytes = Buffer.alloc(1 << 20);
  for (let i = 0; i < secretBytes.length; i += 32) createHash('sha256').update(`secret ${i}`).digest().copy(secretBytes, i);
  writeFileSync(secret, secretBytes, { mode: 0o600 });
  const victim = join(rootDir, 'victim');
  writeFileSync(victim, 'root-owned content\n', { mode: 0o644 });
  mkdirSync(join(rootDir, 'empty'), { mode: 0o755 });
  return {
    rootDir,
    attackerDir,
    secret,
    secretBytes,
    victim,
    remove: () => {
      rmSync(rootDir, { recursive: true, force: true });
      rmSync(attackerDir, { recursive: true, force: true });
    },
  };
}

/** A fingerprint of a folder tree's names and contents, to prove nothing in it changed. */
export function snapshot(dir: string): string {
  const hash = createHash('sha256');
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(path, entry.name);
      hash.update(`${full}\n`);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) hash.update(readFileSync(full));
    }
  };
  walk(dir);
  return hash.digest('hex');
}
