/**
 * The elevated part serving a card as raw bytes (the Windows handover, exercised on Linux with
 * the worker's own --serve-bytes flag): the worker runs as root; the job runs in its client as
 * `nobody`, and flashes and verifies a loop card through the served bytes. Then the client turns
 * hostile and sends frames the worker must refuse: each ends the session with an error, nothing
 * lands outside the card (a second loop device's sha256 is unchanged), the card's head is zeroed
 * as after a cancelled flash, and the worker still serves the next session.
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JobEvent, WorkerLine } from '../../electron/engine/api';
import { encodeHeader, MAX_TRANSFER, Op } from '../../electron/engine/elevated/card-frames';
import { ByteChannelClient } from '../../electron/engine/flash/remote-card';
import { withLoopDevice, type LoopDevice } from '../helpers/loop';
import { describeWith } from '../helpers/needs';
import { installForAnyUser, type Installed } from '../helpers/worker-process';
import { BytesWorker, WORKER_ARGS } from './bytes-worker';
import { asNobody, NOBODY, pattern, sha256, stage, type Stage } from './hostile';

const MiB = 1 << 20;
const CARD = 16 * MiB;
let installed: Installed;
let scene: Stage;
let image: Buffer;
let imagePath: string;
let clientJs: string;

beforeAll(async () => {
  installed = installForAnyUser();
  scene = stage();
  image = pattern(5 * MiB + 4096, 7);
  imagePath = join(scene.rootDir, 'card.img');
  writeFileSync(imagePath, image, { mode: 0o644 });
  clientJs = join(installed.dir, 'bytes-client.cjs');
  await build({ entryPoints: [join(__dirname, 'bytes-client.ts')], outfile: clientJs, bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent' });
  asNobody('mkdir', [join(scene.attackerDir, 'logs')]);
});

afterAll(() => {
  scene?.remove();
  installed?.remove();
});

/** Runs jobs through the real app-side client as nobody, wired straight to a root worker. */
async function runAsNobody(jobs: unknown[]): Promise<{ job: string; uid: number; served: number; result: Record<string, unknown> | null; events: JobEvent[] }[]> {
  const worker = spawn(installed.node, [installed.cli, ...WORKER_ARGS], { stdio: ['pipe', 'pipe', 'inherit', 'pipe'], env: { PATH: process.env.PATH ?? '', PKEXEC_UID: String(NOBODY) } });
  const setpriv = ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups'];
  const env = { PATH: process.env.PATH ?? '', HOME: scene.attackerDir, CARDSMITH_LOG_DIR: join(scene.attackerDir, 'logs') };
  // The client gets the worker's own ends; ours are closed before the worker has said anything.
  const client = spawn('setpriv', [...setpriv, installed.node, clientJs, JSON.stringify(jobs)], { stdio: [worker.stdout, worker.stdin, 'pipe', worker.stdio[3]], env });
  for (const end of [worker.stdin, worker.stdout, worker.stdio[3]]) end?.destroy();
  let said = '';
  client.stderr?.setEncoding('utf8').on('data', (text: string) => (said += text));
  await new Promise((resolve) => client.once('close', resolve));
  await new Promise((resolve) => (worker.exitCode !== null ? resolve(null) : worker.once('exit', resolve)));
  const reports = said.split('\n').filter((line) => line.startsWith('JOB '));
  if (reports.length !== jobs.length) throw new Error(`the client said:\n${said}`);
  return reports.map((line) => JSON.parse(line.slice(4)));
}

/** Whether anything still holds the device (the worker opens it O_EXCL to write). */
function held(device: string): boolean {
  try {
    closeSync(openSync(device, constants.O_RDWR | constants.O_EXCL));
    return false;
  } catch {
    return true;
  }
}

async function withCardAndBystander(body: (card: LoopDevice, bystanderSha: () => string, before: string) => Promise<void>): Promise<void> {
  await withLoopDevice({ sizeBytes: CARD, ram: true }, async (card) => {
    await withLoopDevice({ sizeBytes: 8 * MiB, ram: true }, async (bystander) => {
      writeFileSync(bystander.device, pattern(8 * MiB, 3));
      const sha = (): string => sha256(readFileSync(bystander.device));
      await body(card, sha, sha());
    });
  });
}

describeWith(['root', 'tool:setpriv', 'tool:losetup'], 'the elevated part serving a card as raw bytes', () => {
  it('a job running as nobody flashes and verifies a loop card through the served bytes; the worker closes and ejects it', async () => {
    await withCardAndBystander(async (card, bystander, before) => {
      const device = { device: card.device, allowLoop: true };
      const [flashed, verified] = await runAsNobody([
        { job: 'f', request: { op: 'flash', source: imagePath, ...device, eject: true } },
        { job: 'v', request: { op: 'verify', source: imagePath, ...device } },
      ]);
      expect(flashed?.result, JSON.stringify(flashed?.events.filter((e) => e.type === 'error' || e.type === 'log'))).toMatchObject({ device: card.device, verified: true });
      // The job wrote its log: as nobody, so it ran as nobody.
      expect(statSync(flashed?.result?.logFile as string).uid).toBe(NOBODY);
      expect(flashed?.uid).toBe(NOBODY);
      // Served as bytes, not handed over: the worker said so once per job.
      expect([flashed?.served, verified?.served]).toEqual([1, 2]);
      expect(flashed?.events).toContainEqual(expect.objectContaining({ type: 'phase', phase: 'eject', state: 'start' }));
      expect(verified?.result).toMatchObject({ ok: true, bytesChecked: image.length });
      expect(sha256(readFileSync(card.device).subarray(0, image.length))).toBe(sha256(image));
      expect(bystander()).toBe(before);
      expect(held(card.device)).toBe(false);
    });
  });

  it('a cancel in the app ends the job as cancelled with the card head zeroed through the served bytes, and the worker closes the card', async () => {
    await withCardAndBystander(async (card, bystander, before) => {
      writeFileSync(card.device, pattern(CARD, 9));
      const [cancelled] = await runAsNobody([{ job: 'c', request: { op: 'flash', source: imagePath, device: card.device, allowLoop: true }, cancelAtWrite: true }]);
      expect(cancelled?.result).toBeNull();
      expect(cancelled?.events.at(-1)).toMatchObject({ type: 'error', error: { cause: 'cancelled', details: { headZeroed: true } } });
      expect(cancelled?.served).toBe(1);
      expect(readFileSync(card.device).subarray(0, MiB).every((b) => b === 0)).toBe(true);
      expect(bystander()).toBe(before);
      expect(held(card.device)).toBe(false);
    });
  });

  it('ends the session on each hostile frame, writes nothing outside the card, zeroes what it wrote of the head, and serves the next session', async () => {
    await withCardAndBystander(async (card, bystander, before) => {
      const worker = new BytesWorker(installed, { PKEXEC_UID: String(NOBODY) });
      const bytes = new ByteChannelClient(worker.channel);
      const request = { op: 'flash', source: imagePath, device: card.device, allowLoop: true };
      const header = (session: bigint, over: { op?: number; length?: number; offset?: bigint }) =>
        encodeHeader({ op: Op.WRITE, id: 1, length: 4096, offset: 0n, session, ...over });
      const hostile: [string, (session: bigint) => Buffer[], RegExp][] = [
        ['offset past the end', (s) => [header(s, { offset: BigInt(CARD) }), Buffer.alloc(4096, 0x66)], /past the card's end/],
        ['offset far past the end, as a u64', (s) => [header(s, { offset: 2n ** 64n - 4096n })], /past the card's end/],
        ['unaligned offset', (s) => [header(s, { offset: 100n }), Buffer.alloc(4096, 0x66)], /multiple of the block size/],
        ['length 0', (s) => [header(s, { length: 0 })], /outside 1\.\./],
        ['length over 4 MiB', (s) => [header(s, { length: MAX_TRANSFER + 4096 })], /outside 1\.\./],
        ['bad magic', (s) => [Buffer.concat([Buffer.from('XXXX'), header(s, {}).subarray(4)])], /bad magic/],
        ['a truncated frame, then the next one', (s) => [header(s, {}).subarray(0, 20), header(s, { op: Op.READ })], /not being served|reserved/],
      ];
      let n = 0;
      const next = async (): Promise<{ job: string; served: Awaited<ReturnType<BytesWorker['served']>> }> => {
        const job = `j${(n += 1)}`;
        worker.send({ cmd: 'start', job, request });
        return { job, served: await worker.served(job) };
      };
      try {
        for (const [what, frames, said] of hostile) {
          const { job, served } = await next();
          const remote = bytes.open(served);
          await remote.target().write(Buffer.alloc(MiB, 0x11), 4 * MiB);
          await remote.target().write(Buffer.alloc(MiB, 0x22), 0);
          for (const frame of frames(served.session)) worker.channel.write(frame);
          const end = await worker.ended(job);
          expect(end, what).toMatchObject({ event: { type: 'error', error: { cause: 'bad-input', message: expect.stringMatching(said) } } });
          const now = readFileSync(card.device);
          expect(now.subarray(0, MiB).every((b) => b === 0), `${what}: head zeroed`).toBe(true);
          expect(now.subarray(4 * MiB, 5 * MiB).every((b) => b === 0x11), `${what}: the rest as written`).toBe(true);
          expect(bystander(), what).toBe(before);
          expect(held(card.device), `${what}: card closed`).toBe(false);
        }

        // A flood: 100 reads of 4 MiB and no reply taken. The worker stops reading frames while its
        // replies wait, so its memory stays bounded; a cancel ends the session.
        const { job, served } = await next();
        bytes.open(served);
        const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${worker.child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
        const base = rss();
        worker.channel.pause();
        for (let i = 0; i < 100; i += 1) worker.channel.write(encodeHeader({ op: Op.READ, id: 1000 + i, length: MAX_TRANSFER, offset: 0n, session: served.session }));
        await new Promise((resolve) => setTimeout(resolve, 2000));
        const grown = rss() - base;
        worker.send({ cmd: 'cancel', job });
        worker.channel.resume();
        expect((await worker.ended(job)) as WorkerLine).toMatchObject({ event: { type: 'error', error: { cause: 'cancelled' } } });
        expect(grown, `worker grew by ${grown} bytes`).toBeLessThan(64 * MiB);

        // The next session is served: a write and a read-back, then CLOSE.
        const last = await next();
        const remote = bytes.open(last.served);
        await remote.target().write(image.subarray(0, 4 * MiB), 0);
        const back = Buffer.alloc(4 * MiB);
        expect(await remote.target().read(back, 0)).toBe(4 * MiB);
        expect(back.equals(image.subarray(0, 4 * MiB))).toBe(true);
        await remote.finish();
        expect(await worker.ended(last.job)).toMatchObject({ card: { state: 'closed', ejected: false } });
        expect(bystander()).toBe(before);
      } finally {
        worker.end();
        await worker.exited;
      }
    });
  });
});
