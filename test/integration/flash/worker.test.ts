/**
 * The privileged worker as the GUI drives it: a child process speaking NDJSON on stdin/stdout,
 * writing a real loop device, refusing what its own policy forbids, cancelling on request and
 * when its parent goes away.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, closeSync, openSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Envelope, JobEvent } from '../../../electron/engine/api';
import { JobRouter } from '../../../electron/main/jobs';
import { describeWith } from '../../helpers/needs';
import { withLoopDevice } from '../../helpers/loop';
import { WorkerProcess } from '../../helpers/worker-process';

const MiB = 1 << 20;
const root = join(__dirname, '..', '..', '..');
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cardsmith-worker-'));
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), 'cli'], { cwd: root });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const terminal = (job: string) => (e: Envelope) => e.job === job && (e.event.type === 'result' || e.event.type === 'error');

describeWith(['root', 'tool:losetup'], 'the privileged worker', () => {
  it('answers malformed lines, refuses loop devices without --allow-loop, and exits when stdin closes', async () => {
    const worker = new WorkerProcess({ env: { CARDSMITH_LOG_DIR: join(work, 'logs') } });
    worker.send('{not json');
    worker.send({ cmd: 'start', job: 'b', request: { op: 'build', recipe: { board: 'x', rootfs: 'y', output: 'z' } } });
    worker.send({ cmd: 'start', job: 'l', request: { op: 'flash', source: '/nonexistent.img', device: '/dev/loop0', allowLoop: true } });
    worker.send({ cmd: 'start', job: 'd', request: { op: 'listDrives', all: true } });
    expect((await worker.until((e) => e.job === 'protocol')).event).toMatchObject({ type: 'error', error: { cause: 'bad-input' } });
    expect((await worker.until(terminal('b'))).event).toMatchObject({ type: 'error', error: { cause: 'bad-input' } });
    expect((await worker.until(terminal('l'))).event).toMatchObject({ type: 'error', error: { cause: 'unsafe-target' } });
    expect((await worker.until(terminal('d'))).event).toMatchObject({ type: 'result', op: 'listDrives' });
    worker.end();
    expect(await worker.exited).toBe(0);
  });

  it('flashes a loop device when started with --allow-loop, and cancels a job on request', async () => {
    const image = Buffer.alloc(8 * MiB);
    for (let i = 0; i < image.length; i += 4096) image.writeUInt32LE(i + 1, i);
    writeFileSync(join(work, 'w.img'), image);
    const big = join(work, 'big.img');
    writeFileSync(big, image);
    execFileSync('truncate', ['-s', `${768 * MiB}`, big]);
    await withLoopDevice({ sizeBytes: 800 * MiB, ram: true }, async (loop) => {
      const worker = new WorkerProcess({ args: ['--allow-loop'], env: { CARDSMITH_LOG_DIR: join(work, 'logs') } });
      worker.send({ cmd: 'start', job: 'f', request: { op: 'flash', source: join(work, 'w.img'), device: loop.device, allowLoop: true } });
      expect((await worker.until(terminal('f'))).event).toMatchObject({ type: 'result', result: { verified: true, bytesWritten: 8 * MiB } });

      worker.send({ cmd: 'start', job: 'c', request: { op: 'flash', source: big, device: loop.device, allowLoop: true } });
      await worker.until((e) => e.job === 'c' && e.event.type === 'progress' && e.event.bytesDone > 0);
      worker.send({ cmd: 'cancel', job: 'c' });
      const cancelled = await worker.until(terminal('c'));
      expect(cancelled.event).toMatchObject({ type: 'error', error: { cause: 'cancelled', details: { headZeroed: true } } });
      const head = Buffer.alloc(MiB);
      const fd = openSync(loop.device, 'r');
      readSync(fd, head, 0, MiB, 0);
      closeSync(fd);
      expect(head.every((b) => b === 0)).toBe(true);
      worker.send({ cmd: 'shutdown' });
      expect(await worker.exited).toBe(0);
    });
  });
});

describeWith(['root', 'tool:losetup', 'tool:mkfs.ext4', 'tool:mount', 'tool:umount'], 'the app before it asks the privileged worker', () => {
  it('refuses a card that holds the job’s own image, without starting the worker', async () => {
    await withLoopDevice({ sizeBytes: 64 * MiB }, async (loop) => {
      execFileSync('mkfs.ext4', ['-q', '-F', loop.device]);
      const mountPoint = mkdtempSync(join(tmpdir(), 'cardsmith-own-'));
      execFileSync('mount', [loop.device, mountPoint]);
      try {
        const image = join(mountPoint, 'card.img');
        writeFileSync(image, Buffer.alloc(MiB, 7));
        let asked = 0;
        const router = new JobRouter({
          jobHost: { run: () => Promise.reject(new Error('no unprivileged job here')), cancel: () => undefined },
          privilegedWorker: async () => {
            asked += 1;
            throw new Error('the worker must not be started');
          },
        });
        const events: JobEvent[] = [];
        await router.start('own', { op: 'flash', source: image, device: loop.device, allowLoop: true, verify: true, eject: false }, (event) => events.push(event));
        expect(events.at(-1)).toMatchObject({ type: 'error', error: { cause: 'unsafe-target', message: expect.stringContaining('own contents') } });
        expect(asked).toBe(0);
      } finally {
        execFileSync('umount', [mountPoint]);
        rmSync(mountPoint, { recursive: true, force: true });
      }
    });
  });
});
