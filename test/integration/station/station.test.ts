/**
 * The station as a person runs it: the CLI as a child process, real loop devices as cards
 * attached one after another while it runs. A card present at start is left alone, each new card
 * is flashed and verified exactly once, a card too small fails alone, --count stops it, and the
 * CSV and JSON reports list the cards. `--reader` keeps it to this test's own loop devices.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StationEventSchema, type StationEvent } from '../../../electron/engine/api';
import { describeWith } from '../../helpers/needs';
import { attachLoop, detachLoop } from '../../helpers/loop';

const MiB = 1 << 20;
const root = join(__dirname, '..', '..', '..');
let work: string;

beforeAll(() => {
  work = realpathSync(mkdtempSync(join(tmpdir(), 'cardsmith-station-')));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

function readDevice(device: string, bytes: number): Buffer {
  const data = Buffer.alloc(bytes);
  const fd = openSync(device, 'r');
  try {
    let done = 0;
    while (done < bytes) {
      const n = readSync(fd, data, done, bytes - done, done);
      if (n === 0) break;
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return data;
}

/** A card's backing file filled with one byte, so any write to it shows. */
function cardFile(name: string, bytes: number, fillByte: number): string {
  const path = join(work, 'cards', name);
  writeFileSync(path, Buffer.alloc(bytes, fillByte));
  return path;
}

/** The station's NDJSON events as they arrive, and a way to wait for one. */
function watchEvents(child: ChildProcess): { events: StationEvent[]; waitFor(test: (e: StationEvent) => boolean, ms?: number): Promise<StationEvent> } {
  const events: StationEvent[] = [];
  const waiters: { test: (e: StationEvent) => boolean; resolve: (e: StationEvent) => void }[] = [];
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines.filter((l) => l.trim() !== '')) {
      const event = StationEventSchema.parse(JSON.parse(line));
      events.push(event);
      for (const waiter of [...waiters]) if (waiter.test(event)) waiter.resolve(event);
    }
  });
  return {
    events,
    waitFor: (test, ms = 60_000) =>
      new Promise((resolve, reject) => {
        const seen = events.find(test);
        if (seen) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`no such station event within ${ms} ms; got ${JSON.stringify(events)}`)), ms);
        waiters.push({ test, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      }),
  };
}

describeWith(['root', 'tool:losetup'], 'cardsmith station on loop devices', () => {
  it('leaves a card present at start alone, flashes each new card once, fails a too-small card alone, stops at --count', async () => {
    mkdirSync(join(work, 'cards'));
    const image = Buffer.alloc(8 * MiB);
    for (let i = 0; i < image.length; i += 4) image.writeUInt32LE((Math.imul(i, 2654435761) + 7) >>> 0, i);
    const imagePath = join(work, 'card.img');
    writeFileSync(imagePath, image);

    const attached: string[] = [];
    let child: ChildProcess | undefined;
    try {
      const before = attachLoop(cardFile('before.img', 16 * MiB, 0x5a));
      attached.push(before);
      const beforeSha = sha256(readDevice(before, 16 * MiB));

      const csv = join(work, 'report.csv');
      const json = join(work, 'report.json');
      child = spawn(
        process.execPath,
        [join(root, 'bin', 'cardsmith.cjs'), 'station', imagePath, '--allow-loop', '--yes', '--json', '--count', '2', '--reader', join(work, 'cards'), '--report', csv, '--report', json],
        { env: { ...process.env, CARDSMITH_LOG_DIR: join(work, 'logs'), CARDSMITH_CACHE: join(work, 'cache') }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => child?.once('exit', resolve));
      const { events, waitFor } = watchEvents(child);

      const start = await waitFor((e) => e.kind === 'start');
      expect(start).toMatchObject({ imageSha256: sha256(image) });
      expect(start.kind === 'start' && start.untouched).toContain(before);

      const good = attachLoop(cardFile('good.img', 32 * MiB, 0xee));
      attached.push(good);
      await waitFor((e) => e.kind === 'slot' && e.device === good && (e.state === 'done' || e.state === 'failed'));

      const smallFile = cardFile('small.img', 4 * MiB, 0x33);
      const small = attachLoop(smallFile);
      attached.push(small);
      const code = await Promise.race([exited, waitFor((e) => e.kind === 'end', 60_000).then(() => exited)]);
      expect(code, stderr).toBe(1); // one card failed

      const finals = events.filter((e) => e.kind === 'slot' && (e.state === 'done' || e.state === 'failed'));
      expect(finals.map((e) => e.kind === 'slot' && [e.device, e.state])).toEqual([
        [good, 'done'],
        [small, 'failed'],
      ]);
      expect(events.some((e) => e.kind === 'slot' && e.device === good && e.state === 'verifying')).toBe(true);
      expect(events.some((e) => e.kind === 'slot' && e.device === before)).toBe(false);

      expect(sha256(readDevice(good, image.length))).toBe(sha256(image));
      expect(sha256(readDevice(before, 16 * MiB))).toBe(beforeSha);
      expect(readFileSync(smallFile).equals(Buffer.alloc(4 * MiB, 0x33))).toBe(true); // refused before writing

      const end = events.find((e) => e.kind === 'end');
      const rows = end?.kind === 'end' ? end.rows : [];
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatchObject({ device: good, result: 'ok', bytesWritten: image.length, sizeBytes: 32 * MiB, imageSha256: sha256(image), error: null });
      expect(rows[0]?.reader.path).toBe(join(work, 'cards', 'good.img'));
      expect(rows[1]).toMatchObject({ device: small, result: 'failed', bytesWritten: 0, sizeBytes: 4 * MiB });
      expect(rows[1]?.error).toMatch(/small|larger|bytes/i);

      const csvLines = readFileSync(csv, 'utf8').trimEnd().split('\r\n');
      expect(csvLines[0]).toBe('time,device,reader_vendor,reader_model,reader_serial,reader_path,size_bytes,image_sha256,bytes_written,result,error');
      expect(csvLines).toHaveLength(3);
      expect(csvLines[1]).toContain(`,${good},,,,${join(work, 'cards', 'good.img')},${32 * MiB},${sha256(image)},${image.length},ok,`);
      expect(csvLines[2]).toContain(`,${small},`);
      expect(csvLines[2]).toContain(',failed,');
      expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual({ cards: rows });
    } finally {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      for (const device of attached) detachLoop(device);
    }
  }, 180_000);
});
