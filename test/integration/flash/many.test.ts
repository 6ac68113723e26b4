/**
 * flashMany on real loop devices: one image (raw and .xz) onto four cards, a card too small among
 * them, a card that fails mid-write (FUSE, EIO) and a card ten times slower than the rest (FUSE,
 * throttled) — each card ends on its own, the others are written and verified.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CardOutcome, JobEvent, RequestInput } from '../../../electron/engine/api';
import { runRequest } from '../../../electron/engine/operations';
import { readBytesAt, writePatternImage, fillStart } from '../../helpers/bytes';
import { fixturePath } from '../../helpers/fixtures';
import { FUSE_CARD_NEEDS, withFuseCard, type FuseCardOptions } from '../../helpers/fuse-card';
import { withLoopDevice } from '../../helpers/loop';
import { describeWith } from '../../helpers/needs';

const MiB = 1 << 20;
const root = join(__dirname, '..', '..', '..');
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cardsmith-many-'));
  process.env.CARDSMITH_LOG_DIR = join(work, 'logs');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

type Card = { readonly loop: number } | { readonly fuse: FuseCardOptions };

/** Attaches every card (loop devices of `loop` bytes, or FUSE cards), runs `body`, detaches them all. */
async function withCards<T>(cards: readonly Card[], body: (devices: string[]) => Promise<T>, devices: string[] = []): Promise<T> {
  const [first, ...rest] = cards;
  if (!first) return body(devices);
  if ('loop' in first) return withLoopDevice({ sizeBytes: first.loop, ram: true }, (loop) => withCards(rest, body, [...devices, loop.device]));
  return withFuseCard(first.fuse, (device) => withCards(rest, body, [...devices, device]));
}

async function flashMany(request: Omit<Extract<RequestInput, { op: 'flashMany' }>, 'op'>): Promise<{ cards: CardOutcome[] | undefined; events: JobEvent[]; at: Map<string, number> }> {
  const events: JobEvent[] = [];
  const at = new Map<string, number>();
  const result = await runRequest<'flashMany'>({ op: 'flashMany', allowLoop: true, ...request }, (event) => {
    events.push(event);
    // When each card was done: its last phase (verify done, or its error).
    if (event.type === 'phase' && event.card && event.phase === 'verify' && event.state === 'done') at.set(event.card, performance.now());
  });
  return { cards: result?.cards, events, at };
}

describeWith(['root', 'tool:losetup', 'tool:xz'], 'flashMany to loop devices', () => {
  it.each([['raw', ''], ['xz', '.xz']])('writes one %s image to four cards, each equal to the image', async (_kind, suffix) => {
    const path = join(work, `four${suffix ? '-xz' : ''}.img`);
    // Larger than the fan-out window (16 × 4 MiB), so slots are reused while the cards write.
    const image = writePatternImage(path, 80 * MiB + 4096, 3);
    if (suffix) execFileSync('xz', ['-0', '-T2', '-k', '-f', path]);
    await withCards([{ loop: 96 * MiB }, { loop: 96 * MiB }, { loop: 96 * MiB }, { loop: 100 * MiB }], async (devices) => {
      for (const device of devices) fillStart(device, 0x5a, 2 * MiB);
      const { cards, events } = await flashMany({ source: `${path}${suffix}`, devices });
      expect(cards).toHaveLength(4);
      for (const [index, card] of (cards ?? []).entries()) {
        expect(card).toMatchObject({ device: devices[index], ok: true, verified: true, bytesWritten: image.length, error: null });
        expect(sha256(readBytesAt(card.device, 0, image.length))).toBe(sha256(image));
        expect(readFileSync(card.logFile as string, 'utf8')).toMatch(/phase verify done/);
      }
      // Every card's phases are tagged with it; the shared source was opened once and nobody fell behind.
      for (const device of devices) {
        const phases = events.filter((e) => e.type === 'phase' && e.card === device).map((e) => e.type === 'phase' && `${e.phase}:${e.state}`);
        expect(phases).toEqual(['unmount:start', 'unmount:done', 'write:start', 'write:done', 'bootloader:skipped', 'verify:start', 'verify:done']);
      }
    });
  });

  it('refuses a card too small before writing to it, and writes the others', async () => {
    const path = join(work, 'small.img');
    const image = writePatternImage(path, 20 * MiB, 5);
    await withCards([{ loop: 32 * MiB }, { loop: 16 * MiB }, { loop: 32 * MiB }], async (devices) => {
      for (const device of devices) fillStart(device, 0x33, 16 * MiB);
      const { cards } = await flashMany({ source: path, devices });
      expect(cards?.[1]).toMatchObject({ device: devices[1], ok: false, bytesWritten: 0, error: { cause: 'too-small', details: { imageBytes: 20 * MiB, deviceBytes: 16 * MiB, device: devices[1] } } });
      expect(readBytesAt(devices[1] as string, 0, 16 * MiB).every((b) => b === 0x33)).toBe(true);
      for (const index of [0, 2]) {
        expect(cards?.[index]).toMatchObject({ ok: true, verified: true });
        expect(sha256(readBytesAt(devices[index] as string, 0, image.length))).toBe(sha256(image));
      }
    });
  });

  it('refuses the whole request, writing nothing, when one card is not allowed', async () => {
    const path = join(work, 'refused.img');
    writePatternImage(path, 4 * MiB, 9);
    await withCards([{ loop: 8 * MiB }], async ([device]) => {
      fillStart(device as string, 0x44, 8 * MiB);
      const events: JobEvent[] = [];
      await runRequest({ op: 'flashMany', source: path, devices: [device, '/dev/null'], allowLoop: true }, (e) => events.push(e));
      expect(events.at(-1)).toMatchObject({ type: 'error', error: { details: { device: '/dev/null' } } });
      expect(readBytesAt(device as string, 0, 8 * MiB).every((b) => b === 0x44)).toBe(true);
    });
  });
});

describeWith(['root', 'tool:losetup', 'tool:zip'], 'flashMany from a damaged source', () => {
  it('calls no card good when the shared source fails its checksum at the end: every card fails, heads zeroed', async () => {
    const path = join(work, 'damaged.img');
    writePatternImage(path, 12 * MiB, 17);
    // A stored (not deflated) entry: a byte changed in its data leaves the archive readable to the
    // end, where the entry's CRC-32 no longer matches — found only after the body went to the cards.
    const zip = join(work, 'damaged.zip');
    execFileSync('zip', ['-q', '-0', '-j', zip, path]);
    const bytes = readFileSync(zip);
    const dataStart = 30 + bytes.readUInt16LE(26) + bytes.readUInt16LE(28);
    bytes[dataStart + 6 * MiB] = (bytes[dataStart + 6 * MiB] as number) ^ 0xff;
    writeFileSync(zip, bytes);
    await withCards([{ loop: 16 * MiB }, { loop: 16 * MiB }], async (devices) => {
      for (const device of devices) fillStart(device, 0x66, 2 * MiB);
      const { cards } = await flashMany({ source: zip, devices });
      expect(cards).toHaveLength(2);
      for (const card of cards ?? []) {
        expect(card).toMatchObject({ ok: false, verified: false, error: { cause: 'source-corrupt' } });
        expect(readBytesAt(card.device, 0, MiB).every((b) => b === 0)).toBe(true);
      }
    });
  });
});

const LOADER_DIR = fixturePath('u-boot-sunxi_armhf', 'usr/lib/u-boot/nanopi_neo');

describeWith(['root', 'tool:losetup', 'tool:sfdisk', `file:${LOADER_DIR}`], 'flashMany with a board', () => {
  it("writes the board's loader to every card, cards of two sizes, and verifies it", async () => {
    const path = join(work, 'board.img');
    const image = writePatternImage(path, 24 * MiB, 29);
    image.fill(0, 0, 8 * MiB);
    writeFileSync(path, image);
    execFileSync('sfdisk', ['--quiet', path], { input: 'label: dos\nstart=16384, type=83\n' });
    const spl = readFileSync(join(LOADER_DIR, 'u-boot-sunxi-with-spl.bin'));
    await withCards([{ loop: 32 * MiB }, { loop: 48 * MiB }], async (devices) => {
      const { cards, events } = await flashMany({ source: path, devices, board: 'nanopi-neo', loaderFrom: LOADER_DIR });
      for (const [index, device] of devices.entries()) {
        expect(cards?.[index]).toMatchObject({ device, ok: true, verified: true });
        expect(events).toContainEqual(expect.objectContaining({ type: 'phase', phase: 'bootloader', state: 'done', card: device }));
        expect(readBytesAt(device, 8192, spl.length).equals(spl)).toBe(true);
        expect(readBytesAt(device, 0, 512).equals(readBytesAt(path, 0, 512))).toBe(true);
        expect(readBytesAt(device, 8 * MiB, 16 * MiB).equals(image.subarray(8 * MiB))).toBe(true);
      }
    });
  });
});

describeWith(['root', 'tool:losetup'], 'cancelling flashMany', () => {
  it('stops every card, each with its first MiB zeroed, and ends the job as cancelled', async () => {
    const path = join(work, 'cancel.img');
    writePatternImage(path, 4 * MiB, 23);
    execFileSync('truncate', ['-s', `${512 * MiB}`, path]);
    await withCards([{ loop: 520 * MiB }, { loop: 520 * MiB }], async (devices) => {
      for (const device of devices) fillStart(device, 0x77, 2 * MiB);
      const controller = new AbortController();
      const events: JobEvent[] = [];
      await runRequest({ op: 'flashMany', source: path, devices, allowLoop: true }, (event) => {
        events.push(event);
        if (event.type === 'progress' && event.phase === 'write' && event.bytesDone > 8 * MiB) controller.abort();
      }, controller.signal);
      expect(events.at(-1)).toMatchObject({ type: 'error', error: { cause: 'cancelled', details: { written: [], stopped: devices } } });
      for (const device of devices) expect(readBytesAt(device, 0, MiB).every((b) => b === 0)).toBe(true);
    });
  });
});

describeWith(['root', 'tool:losetup'], 'cardsmith flash with several --device', () => {
  it('prints a line per card and a summary, and exits 1 when a card failed', async () => {
    execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), 'cli'], { cwd: root });
    const path = join(work, 'cli.img');
    writePatternImage(path, 10 * MiB, 21);
    await withCards([{ loop: 16 * MiB }, { loop: 8 * MiB }], async (devices) => {
      const cli = (args: string[]): { status: number | null; stdout: string } =>
        spawnSync(process.execPath, [join(root, 'bin/cardsmith.cjs'), 'flash', path, ...devices.flatMap((d) => ['--device', d]), '--allow-loop', '--yes', ...args], { encoding: 'utf8' });
      const human = cli([]);
      expect(human.status).toBe(1);
      expect(human.stdout).toContain(`${devices[0]}: wrote 10 MiB, verified`);
      expect(human.stdout).toMatch(new RegExp(`${devices[1]}: FAILED \\(too-small\\)`));
      expect(human.stdout).toContain('1 of 2 cards written, 1 failed');
      const json = cli(['--json']);
      expect(json.status).toBe(1);
      const last = JSON.parse(json.stdout.trim().split('\n').at(-1) as string) as JobEvent;
      expect(last).toMatchObject({ type: 'result', op: 'flashMany', result: { cards: [{ ok: true }, { ok: false }] } });
    });
  });
});

describeWith([...FUSE_CARD_NEEDS], 'flashMany with a failing or slow card', () => {
  it('ends the card that fails mid-write with the offset; the others verify', async () => {
    const path = join(work, 'eio.img');
    const image = writePatternImage(path, 24 * MiB, 13);
    const bad = { start: 10 * MiB + 4096, end: 11 * MiB };
    await withCards([{ loop: 32 * MiB }, { fuse: { sizeBytes: 32 * MiB, keepsData: true, bad } }, { loop: 32 * MiB }], async (devices) => {
      const { cards } = await flashMany({ source: path, devices });
      const failed = cards?.[1];
      expect(failed).toMatchObject({ device: devices[1], ok: false, error: { cause: 'io', details: { code: 'EIO', headZeroed: true } } });
      const { offset, length } = failed?.error?.details as { offset: number; length: number };
      expect(offset).toBeLessThanOrEqual(bad.start);
      expect(offset + length).toBeGreaterThan(bad.start);
      expect(readFileSync(failed?.logFile as string, 'utf8')).toMatch(/error io: I\/O error writing/);
      for (const index of [0, 2]) {
        expect(cards?.[index]).toMatchObject({ ok: true, verified: true });
        expect(sha256(readBytesAt(devices[index] as string, 0, image.length))).toBe(sha256(image));
      }
    });
  });

  it('does not hold the fast cards back for a card ten times slower', async () => {
    const path = join(work, 'slow.img');
    // Twice the fan-out window: the slow card falls behind it and reads the image on its own.
    const image = writePatternImage(path, 128 * MiB, 17);
    const rate = 10 * MiB;
    await withCards([{ loop: 136 * MiB }, { fuse: { sizeBytes: 136 * MiB, keepsData: true, writeBytesPerSecond: rate } }, { loop: 136 * MiB }], async (devices) => {
      const started = performance.now();
      const { cards, at, events } = await flashMany({ source: path, devices });
      for (const card of cards ?? []) expect(card).toMatchObject({ ok: true, verified: true });
      const slowDone = at.get(devices[1] as string) as number;
      for (const index of [0, 2]) {
        const fastDone = at.get(devices[index] as string) as number;
        // The fast cards were done before the slow one had written half the image.
        expect(fastDone - started).toBeLessThan((image.length / 2 / rate) * 1000);
        expect(fastDone).toBeLessThan(slowDone);
      }
      expect(events.some((e) => e.type === 'log' && e.card === devices[1] && /fell a window behind/.test(e.message))).toBe(true);
      expect(sha256(readBytesAt(devices[1] as string, 0, image.length))).toBe(sha256(image));
    });
  }, 60_000);
});
