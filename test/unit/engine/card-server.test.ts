/**
 * The byte channel: the frame codec and the worker's validation as pure functions, then the
 * server and the client over a real Unix socket, serving a real file opened the way a card is
 * (512-byte blocks enforced by the server's checks).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkerLineSchema } from '../../../electron/engine/api';
import { decodeHeader, encodeHeader, encodeReply, HEADER_BYTES, MAX_TRANSFER, Op, Reply, requestProblem, type Header } from '../../../electron/engine/elevated/card-frames';
import { chooseHandover, openByteChannel } from '../../../electron/engine/elevated/byte-handover';
import { CardServer } from '../../../electron/engine/elevated/card-server';
import { CardsmithError } from '../../../electron/engine/errors';
import { deviceOnFd, type TargetDevice } from '../../../electron/engine/flash/device';
import { ByteChannelClient, type ServedCard } from '../../../electron/engine/flash/remote-card';

const MiB = 1 << 20;
const CARD_BYTES = 16 * MiB;
const limits = { session: 7n, sizeBytes: 16 * MiB, blockSize: 512, writable: true };
const frame = (over: Partial<Header>): Header => ({ op: Op.READ, id: 1, length: 4096, offset: 0n, session: 7n, ...over });

describe('frames', () => {
  it('round-trips a header and refuses anything that is not one', () => {
    const header = frame({ op: Op.WRITE, id: 0xfffffffe, length: MAX_TRANSFER, offset: 2n ** 63n, session: 2n ** 64n - 1n });
    expect(decodeHeader(encodeHeader(header))).toEqual(header);
    const bad = encodeHeader(header);
    bad[0] = 0x58;
    expect(decodeHeader(bad)).toEqual({ problem: expect.stringContaining('bad magic') });
    const reserved = encodeHeader(header);
    reserved[6] = 1;
    expect(decodeHeader(reserved)).toEqual({ problem: expect.stringContaining('reserved') });
    expect(decodeHeader(encodeHeader(header).subarray(0, 31))).toEqual({ problem: expect.stringContaining('32 bytes') });
  });

  it('serves only aligned, bounded transfers inside the card, of the session being served', () => {
    expect(requestProblem(frame({}), limits)).toBeNull();
    expect(requestProblem(frame({ op: Op.WRITE, offset: BigInt(16 * MiB - 4096) }), limits)).toBeNull();
    expect(requestProblem(frame({ op: Op.FLUSH, length: 0 }), limits)).toBeNull();
    const refused: [string, Header, Partial<typeof limits>?][] = [
      ['past the end', frame({ offset: BigInt(16 * MiB) })],
      ['straddling the end', frame({ offset: BigInt(16 * MiB - 512), length: 1024 })],
      ['a u64 offset no double can hold', frame({ offset: 2n ** 64n - 512n })],
      ['an unaligned offset', frame({ offset: 100n })],
      ['an unaligned length', frame({ length: 1000 })],
      ['length 0', frame({ length: 0 })],
      ['longer than 4 MiB', frame({ length: MAX_TRANSFER + 512 })],
      ['an unknown op', frame({ op: 9 })],
      ['a reply op sent as a request', frame({ op: Reply.DONE })],
      ['a close with a length', frame({ op: Op.CLOSE, length: 512 })],
      ['a flush with an offset', frame({ op: Op.FLUSH, length: 0, offset: 512n })],
      ['another session', frame({ session: 8n })],
      ['a write to a card opened to read', frame({ op: Op.WRITE }), { writable: false }],
    ];
    for (const [what, header, over] of refused) expect(requestProblem(header, { ...limits, ...over }), what).not.toBeNull();
  });

  it('cuts a failure message to 1 KiB and echoes the request', () => {
    const reply = encodeReply(frame({ id: 5, offset: 4096n }), 'x'.repeat(5000));
    expect(decodeHeader(reply)).toEqual({ op: Reply.FAILED, id: 5, length: 1024, offset: 4096n, session: 7n });
    expect(reply.length).toBe(HEADER_BYTES + 1024);
  });
});

// Megabytes through a socket on a machine shared with other jobs: more than the default 5 s.
describe('the server and the client over a Unix socket', { timeout: 30_000 }, () => {
  let dir: string;
  let file: string;
  let server: CardServer;
  let raw: Socket;
  let client: Socket;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cardsmith-bytes-'));
    file = join(dir, 'card');
    writeFileSync(file, Buffer.alloc(16 * MiB, 0xaa));
    const path = join(dir, 'channel');
    const listening = createServer();
    const accepted = new Promise<Socket>((resolve) => listening.once('connection', resolve));
    await new Promise<void>((resolve) => listening.listen(path, resolve));
    client = connect(path);
    raw = await accepted;
    listening.close();
    server = new CardServer(raw);
  });

  afterEach(() => {
    client.destroy();
    raw.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const serveFile = () => {
    const target = deviceOnFd(openSync(file, 'r+'), file, false, 512);
    const served = server.serve({ sizeBytes: 16 * MiB, blockSize: 512, writable: true }, target);
    const card: ServedCard = { ...served, device: file, key: 'file', sizeBytes: 16 * MiB, blockSize: 512, direct: false, writable: true, description: 'a file', warnings: [] };
    return { served, card, target };
  };

  it('writes with several requests in flight, reads back, flushes and closes with an eject asked', async () => {
    const { served, card, target } = serveFile();
    const remote = new ByteChannelClient(client).open(card);
    const device = remote.target();
    const image = Buffer.alloc(MAX_TRANSFER + 4096);
    for (let i = 0; i < image.length; i += 32) createHash('sha256').update(String(i)).digest().copy(image, i);
    // 4 MiB + 4 KiB in one call is two frames; three calls at once is what the writer does.
    await Promise.all([device.write(image, 0), device.write(image.subarray(0, MiB), 12 * MiB), device.write(image.subarray(0, 512), 16 * MiB - 512)]);
    await device.sync();
    const back = Buffer.alloc(image.length);
    expect(await device.read(back, 0)).toBe(image.length);
    expect(back.equals(image)).toBe(true);
    // A read across the end gets the bytes up to the end, as a block device gives them.
    expect(await device.read(Buffer.alloc(MiB), 16 * MiB - 1024)).toBe(1024);
    remote.askEject();
    await remote.finish();
    expect(await served.ended).toEqual({ ok: true, eject: true });
    await target.close();
    const card2 = readFileSync(file);
    expect(card2.subarray(0, image.length).equals(image)).toBe(true);
    expect(card2.subarray(12 * MiB, 13 * MiB).equals(image.subarray(0, MiB))).toBe(true);
  });

  it("carries a failure's message key and params to the client, so the app can translate a card error from the privileged writer", async () => {
    const base = deviceOnFd(openSync(file, 'r+'), file, false, 512);
    const failing: TargetDevice = {
      ...base,
      write: async () => {
        throw CardsmithError.keyed('io', 'os.deviceIoAt', { action: 'writing', device: '/dev/sdx', offset: 4096, code: 'EIO' }, { device: '/dev/sdx' });
      },
    };
    const served = server.serve({ sizeBytes: 16 * MiB, blockSize: 512, writable: true }, failing);
    const card: ServedCard = { ...served, device: file, key: 'file', sizeBytes: 16 * MiB, blockSize: 512, direct: false, writable: true, description: 'a file', warnings: [] };
    const remote = new ByteChannelClient(client).open(card);
    const error = await remote.target().write(Buffer.alloc(4096), 4096).then(() => null, (thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(CardsmithError);
    expect((error as CardsmithError).info).toMatchObject({
      cause: 'io',
      message: 'I/O error writing /dev/sdx at byte 4096 (EIO)',
      key: 'os.deviceIoAt',
      params: { action: 'writing', device: '/dev/sdx', offset: 4096, code: 'EIO' },
    });
    remote.askEject();
    await remote.finish().catch(() => undefined);
    await base.close();
  });

  it('ends the session on a bad frame, zeroes the head it wrote, and serves the next session after garbage', async () => {
    const first = serveFile();
    const remote = new ByteChannelClient(client).open(first.card);
    await remote.target().write(Buffer.alloc(MiB, 0x11), 0);
    // A hostile frame: bytes past the end of the card.
    client.write(encodeHeader({ op: Op.WRITE, id: 99, length: 512, offset: BigInt(16 * MiB), session: first.served.session }));
    client.write(Buffer.alloc(512, 0x66));
    const end = await first.served.ended;
    expect(end).toEqual({ ok: false, error: { cause: 'bad-input', message: expect.stringContaining("past the card's end") } });
    await expect(remote.target().read(Buffer.alloc(512), 0)).rejects.toThrow(/past the card's end/);
    await first.target.close();
    const card = readFileSync(file);
    expect(card.subarray(0, MiB).every((b) => b === 0)).toBe(true);
    expect(card.subarray(MiB).every((b) => b === 0xaa)).toBe(true);

    client.write(Buffer.from('garbage that is no frame at all, then a truncated header:'));
    client.write(encodeHeader(frame({ session: first.served.session })).subarray(0, 20));
    const second = serveFile();
    const again = new ByteChannelClient(client).open(second.card);
    const back = Buffer.alloc(4096);
    expect(await again.target().read(back, MiB)).toBe(4096);
    expect(back.every((b) => b === 0xaa)).toBe(true);
    await again.finish();
    expect(await second.served.ended).toEqual({ ok: true, eject: false });
    await second.target.close();
  });

  it('ends every session when the channel goes away, zeroing the head of a card that was written', async () => {
    const { served, card, target } = serveFile();
    const remote = new ByteChannelClient(client).open(card);
    await remote.target().write(Buffer.alloc(4096, 0x22), 8192);
    client.destroy();
    expect(await served.ended).toEqual({ ok: false, error: { cause: 'internal', message: expect.stringContaining('channel closed') } });
    await target.close();
    expect(readFileSync(file).subarray(0, 16384).every((b) => b === 0)).toBe(true);
  });
});

describe('choosing the handover when the worker starts', () => {
  it('hands the card over by descriptor on Linux and macOS unless told to serve bytes; Windows always serves bytes', () => {
    expect(chooseHandover({ serveBytes: false }, 'linux')).toEqual({ kind: 'fd' });
    expect(chooseHandover({ serveBytes: false }, 'darwin')).toEqual({ kind: 'fd' });
    // Windows without the app's pipe: bytes, with no channel, so every card job says why.
    expect(chooseHandover({ serveBytes: false }, 'win32')).toMatchObject({ kind: 'bytes', server: null, problem: expect.stringContaining('--byte-channel') });
  });

  it("takes only the app's own named pipe as the byte channel, and only on Windows", () => {
    const pipe = `\\\\.\\pipe\\cardsmith-42-${'ab'.repeat(16)}-bytes`;
    for (const [name, platform] of [
      ['\\\\.\\pipe\\other-service', 'win32'],
      [`${pipe}\\..\\x`, 'win32'],
      ['C:\\Users\\me\\AppData\\Local\\Temp\\pipe', 'win32'],
      [pipe, 'linux'],
    ] as const) {
      expect(() => openByteChannel(name, platform), name).toThrow(/--byte-channel/);
    }
  });
});

describe("the worker's card lines", () => {
  const served = { state: 'served', session: '00ff00ff00ff00ff', device: '/dev/sdb', key: '8:16', sizeBytes: CARD_BYTES, description: 'SD', warnings: [], writable: true, direct: true, blockSize: 512 };

  it('are worker lines beside the unchanged envelopes', () => {
    expect(WorkerLineSchema.parse({ job: 'j', card: served })).toEqual({ job: 'j', card: served });
    expect(WorkerLineSchema.parse({ job: 'j', card: { state: 'closed', ejected: true } })).toEqual({ job: 'j', card: { state: 'closed', ejected: true } });
    expect(WorkerLineSchema.parse({ job: 'j', event: { type: 'log', level: 'info', message: 'hi' } })).toMatchObject({ event: { type: 'log' } });
  });

  it('name the session as exactly 16 hex digits and the card by a positive size', () => {
    for (const bad of [{ session: '1' }, { session: `${'0'.repeat(16)}0` }, { session: 'zzzzzzzzzzzzzzzz' }, { sizeBytes: 0 }, { state: 'open' }]) {
      expect(WorkerLineSchema.safeParse({ job: 'j', card: { ...served, ...bad } }).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
