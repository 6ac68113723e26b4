/**
 * The elevated part (`cardsmith worker`) attacked as a hostile same-user process would during
 * polkit's keep window: crafted requests on its stdin, symlinks planted and raced by a process
 * running as that user (`nobody` here). Each attack must have no effect: the victim file, the
 * root-only secret and the refused devices stay exactly as they were.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { urlKey } from '../../electron/engine/sources/cache';
import { readBytesAt } from '../helpers/bytes';
import { rescanPartitions, withLoopDevice } from '../helpers/loop';
import { describeWith } from '../helpers/needs';
import { installForAnyUser, WorkerProcess, type Installed } from '../helpers/worker-process';
import { startTestServer, type TestServer } from '../integration/sources/test-server';
import { asNobody, NOBODY, pattern, sha256, snapshot, spawnAsNobody, stage, type Stage } from './hostile';

const MiB = 1 << 20;
let installed: Installed;
let scene: Stage;
let image: string;
let imageBytes: Buffer;
let server: TestServer;

/** The worker as pkexec starts it for `uid` (nobody unless a test says otherwise). */
function elevated(options: { uid?: number; logDir?: boolean } = {}): WorkerProcess {
  const env: Record<string, string> = { PKEXEC_UID: String(options.uid ?? NOBODY) };
  if (options.logDir !== false) env.CARDSMITH_LOG_DIR = join(scene.attackerDir, 'logs');
  return new WorkerProcess({ installed, args: ['--allow-loop'], env });
}

beforeAll(async () => {
  installed = installForAnyUser();
  scene = stage();
  imageBytes = pattern(4 * MiB, 1);
  image = join(scene.rootDir, 'card.img');
  writeFileSync(image, imageBytes, { mode: 0o644 });
  server = await startTestServer();
});

afterAll(async () => {
  await server?.close();
  scene?.remove();
  installed?.remove();
});

describeWith(['root', 'tool:setpriv', 'tool:losetup', 'tool:partx'], 'the elevated part against a hostile client', () => {
  it('writes no file: a loader install onto a root-owned file is refused, by any spelling of its path', async () => {
    const before = snapshot(scene.rootDir);
    const worker = elevated();
    worker.send({ cmd: 'start', job: 'a', request: { op: 'installLoader', board: 'orangepi-pc', target: scene.victim } });
    worker.send({ cmd: 'start', job: 'b', request: { op: 'installLoader', board: 'orangepi-pc', target: `/dev/..${scene.victim}` } });
    expect((await worker.ended('a')).event).toMatchObject({ type: 'error', error: { cause: 'bad-input' } });
    expect((await worker.ended('b')).event).toMatchObject({ type: 'error', error: { cause: 'unsafe-target' } });
    worker.end();
    expect(await worker.exited).toBe(0);
    expect(snapshot(scene.rootDir)).toBe(before);
  });

  it('reads nothing as root: an image, loader file or rootfs the user cannot read never reaches the card', async () => {
    await withLoopDevice({ sizeBytes: 16 * MiB, ram: true }, async (loop) => {
      const card = () => sha256(readFileSync(loop.device));
      const before = card();
      const worker = elevated();
      const device = { device: loop.device, allowLoop: true };
      worker.send({ cmd: 'start', job: 's', request: { op: 'flash', source: scene.secret, ...device } });
      worker.send({ cmd: 'start', job: 'l', request: { op: 'flash', source: image, board: 'orangepi-pc', loaderFrom: scene.secret, ...device } });
      worker.send({ cmd: 'start', job: 'r', request: { op: 'flash', build: { board: 'orangepi-pc', rootfs: scene.secret }, ...device } });
      worker.send({ cmd: 'start', job: 'v', request: { op: 'verify', source: scene.secret, ...device } });
      for (const job of ['s', 'l', 'r', 'v']) {
        // Jobs on one card run one at a time: the later ones may be refused as busy, never served.
        const end = await worker.ended(job);
        expect(end.event.type, `job ${job}`).toBe('error');
        if (end.event.type === 'error') expect(['permission', 'busy'], `job ${job}: ${end.event.error.message}`).toContain(end.event.error.cause);
      }
      worker.end();
      await worker.exited;
      expect(card()).toBe(before);
      // Nothing the worker said carries the secret's bytes or ranges of them.
      const said = JSON.stringify(worker.envelopes);
      expect(said).not.toContain('mismatch');
      expect(said).not.toContain(scene.secretBytes.subarray(0, 16).toString('hex'));
    });
  });

  it('follows no planted symlink: partial downloads and logs go only where the user can write', async () => {
    const url = server.add('/planted.img', imageBytes);
    const plant = (): string => {
      const cache = join(scene.attackerDir, `cache-${Date.now()}`);
      asNobody('mkdir', ['-p', join(cache, 'partial')]);
      asNobody('ln', ['-s', scene.victim, join(cache, 'partial', `${urlKey(url)}.part`)]);
      asNobody('ln', ['-s', join(scene.rootDir, 'empty'), join(cache, 'logs')]);
      return cache;
    };
    const attack = async (uid: number): Promise<void> => {
      await withLoopDevice({ sizeBytes: 16 * MiB, ram: true }, async (loop) => {
        const worker = elevated({ uid, logDir: false });
        worker.send({ cmd: 'start', job: 'u', request: { op: 'flash', source: url, device: loop.device, allowLoop: true, settings: { cacheDir: plant() } } });
        await worker.ended('u');
        worker.end();
        await worker.exited;
      });
    };
    const before = snapshot(scene.rootDir);
    await attack(NOBODY);
    expect(readFileSync(scene.victim, 'utf8')).toBe('root-owned content\n');
    expect(snapshot(scene.rootDir)).toBe(before);
    // The same plant against a job that runs as root (what the worker did before) is live:
    // the victim grows by the downloaded bytes. This proves the attack above was a real one.
    await attack(0);
    expect(readFileSync(scene.victim).length).toBeGreaterThan('root-owned content\n'.length);
    writeFileSync(scene.victim, 'root-owned content\n');
  });

  it('checks the device it opened: a path flipped between a card and a refused partition never redirects a write', async () => {
    await withLoopDevice({ sizeBytes: 16 * MiB, ram: true }, async (card) => {
      await withLoopDevice({ sizeBytes: 32 * MiB, ram: true, partscan: true }, async (other) => {
        writeFileSync(other.device, pattern(32 * MiB, 2));
        execSfdisk(other.device);
        rescanPartitions(other.device);
        const refused = other.partition(1);
        const otherBefore = sha256(readFileSync(other.device));
        const small = join(scene.rootDir, 'small.img');
        writeFileSync(small, imageBytes.subarray(0, MiB), { mode: 0o644 });
        const link = join(scene.attackerDir, 'card');
        asNobody('ln', ['-sfn', card.device, link]);
        const racer = spawnAsNobody('sh', ['-c', `while :; do ln -sfn ${card.device} ${link}; ln -sfn ${refused} ${link}; done`]);
        const worker = elevated();
        const outcomes: string[] = [];
        try {
          for (let i = 0; i < 12; i += 1) {
            worker.send({ cmd: 'start', job: `r${i}`, request: { op: 'flash', source: small, device: link, allowLoop: true } });
            const end = (await worker.ended(`r${i}`)).event;
            if (end.type === 'result') outcomes.push(`wrote ${(end.result as { device: string }).device}`);
            else if (end.type === 'error') outcomes.push(end.error.cause);
          }
        } finally {
          racer.kill();
          worker.end();
          await worker.exited;
        }
        expect(outcomes.every((o) => o === `wrote ${card.device}` || o === 'unsafe-target' || o === 'device-gone'), outcomes.join(', ')).toBe(true);
        expect(sha256(readFileSync(other.device))).toBe(otherBefore);
      });
    });
  });

  it('checks every card of a flashMany first: a card named with a refused partition leaves both untouched', async () => {
    await withLoopDevice({ sizeBytes: 16 * MiB, ram: true }, async (card) => {
      await withLoopDevice({ sizeBytes: 32 * MiB, ram: true, partscan: true }, async (other) => {
        writeFileSync(card.device, pattern(16 * MiB, 3));
        writeFileSync(other.device, pattern(32 * MiB, 4));
        execSfdisk(other.device);
        rescanPartitions(other.device);
        const before = [sha256(readFileSync(card.device)), sha256(readFileSync(other.device))];
        const worker = elevated();
        try {
          // The refused partition comes last: the card before it must not have been opened or unmounted.
          worker.send({ cmd: 'start', job: 'm', request: { op: 'flashMany', source: image, devices: [card.device, other.partition(1)], allowLoop: true } });
          expect((await worker.ended('m')).event).toMatchObject({ type: 'error', error: { cause: 'unsafe-target', details: { device: other.partition(1) } } });
          expect([sha256(readFileSync(card.device)), sha256(readFileSync(other.device))]).toEqual(before);
          // The same job with two allowed cards writes both: the refusal above was the partition's.
          worker.send({ cmd: 'start', job: 'ok', request: { op: 'flashMany', source: image, devices: [card.device, other.device], allowLoop: true } });
          expect((await worker.ended('ok')).event).toMatchObject({ type: 'result', result: { cards: [{ ok: true, verified: true }, { ok: true, verified: true }] } });
          for (const device of [card.device, other.device]) expect(sha256(readBytesAt(device, 0, imageBytes.length))).toBe(sha256(imageBytes));
        } finally {
          worker.end();
          await worker.exited;
        }
      });
    });
  });

  it('knows a device by its number: three spellings of one loop device are one job at a time', async () => {
    await withLoopDevice({ sizeBytes: 16 * MiB, ram: true }, async (loop) => {
      const name = loop.device.slice('/dev/'.length);
      const worker = elevated();
      const start = (job: string, device: string): string => JSON.stringify({ cmd: 'start', job, request: { op: 'flash', source: image, device, allowLoop: true } });
      worker.sendRaw(`${start('a', loop.device)}\n${start('b', `/dev/../dev/${name}`)}\n${start('c', `//dev/${name}`)}\n`);
      expect((await worker.ended('b')).event).toMatchObject({ type: 'error', error: { cause: 'busy' } });
      expect((await worker.ended('c')).event).toMatchObject({ type: 'error', error: { cause: 'busy' } });
      expect((await worker.ended('a')).event).toMatchObject({ type: 'result', result: { verified: true } });
      worker.end();
      await worker.exited;
    });
  });

  it('keeps every answer bounded: a card that differs everywhere gets a summary, and the channel stays up', async () => {
    await withLoopDevice({ sizeBytes: 16 * MiB, ram: true }, async (loop) => {
      const worker = elevated();
      worker.send({ cmd: 'start', job: 'f', request: { op: 'flash', source: image, device: loop.device, allowLoop: true } });
      expect((await worker.ended('f')).event).toMatchObject({ type: 'result' });
      // Every other 512-byte sector differs: 4096 separate ranges.
      const other = Buffer.from(imageBytes);
      for (let at = 0; at < other.length; at += 1024) other[at] = (other[at] as number) ^ 0xff;
      const otherPath = join(scene.rootDir, 'other.img');
      writeFileSync(otherPath, other, { mode: 0o644 });
      worker.send({ cmd: 'start', job: 'v', request: { op: 'verify', source: otherPath, device: loop.device, allowLoop: true } });
      const verified = (await worker.ended('v')).event;
      expect(verified).toMatchObject({ type: 'result', result: { ok: false, mismatchCount: 4096, mismatchBytes: 4096 } });
      if (verified.type === 'result') expect((verified.result as { mismatches: unknown[] }).mismatches).toHaveLength(32);
      expect(Math.max(...worker.envelopes.map((e) => JSON.stringify(e).length))).toBeLessThan(16 * 1024);
      worker.send({ cmd: 'start', job: 'd', request: { op: 'listDrives', includeLoop: true } });
      expect((await worker.ended('d')).event).toMatchObject({ type: 'result' });
      worker.end();
      expect(await worker.exited).toBe(0);
      expect(readBytesAt(loop.device, 0, 16).equals(imageBytes.subarray(0, 16))).toBe(true);
    });
  });

  it('survives bounded garbage on its input and still serves', async () => {
    const worker = elevated();
    let seed = 12345;
    const random = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 300; i += 1) {
      const line = Buffer.alloc(1 + Math.floor(random() * 2048));
      for (let j = 0; j < line.length; j += 1) line[j] = Math.floor(random() * 256) === 10 ? 32 : Math.floor(random() * 256);
      worker.sendRaw(Buffer.concat([line, Buffer.from('\n')]));
    }
    worker.sendRaw(`${'x'.repeat(3 * MiB)}\n`);
    worker.send({ cmd: 'start', job: 'j', request: { op: 'flash', source: 5, device: [] } });
    worker.send({ cmd: 'start', job: 'ok', request: { op: 'listDrives' } });
    expect((await worker.ended('ok')).event).toMatchObject({ type: 'result' });
    expect(worker.envelopes.some((e) => e.job === 'protocol')).toBe(true);
    expect(worker.envelopes.filter((e) => e.job !== 'protocol' && e.job !== 'ok')).toEqual([]);
    worker.end();
    expect(await worker.exited).toBe(0);
  });
});

/** One partition from 1 MiB to the end, so the device has a partition the rules refuse. */
function execSfdisk(device: string): void {
  execFileSync('sfdisk', ['--quiet', device], { input: 'label: dos\nstart=2048, type=83\n' });
}
