/**
 * Starts the privileged worker from an ElevationPlan and connects a WorkerClient to its stdio:
 * directly for pkexec (and for an unelevated worker), through FIFOs for macOS's osascript, through
 * named pipes for Windows UAC (see elevation.ts for why). A start that fails before the worker
 * speaks becomes a classified error a person can act on. Beside stdio the worker gets a byte
 * channel, used where it serves cards as raw bytes (Windows; see elevated/byte-handover.ts): its
 * descriptor 3 when spawned directly (pkexec closes it: Linux hands cards over by descriptor), a
 * fourth named pipe on Windows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, lstatSync, open, promises as fs } from 'node:fs';
import { createServer, Socket, type Server } from 'node:net';
import { join } from 'node:path';
import type { Duplex, Readable, Writable } from 'node:stream';
import { CardsmithError, type ErrorInfo } from '../engine/errors';
import { classifyElevationFailure, linuxPlan, macPlan, missingElevationTool, windowsPlan, type ElevationPlan, type FifoRelay, type Relay, type WorkerEntry } from './elevation';
import type { PrivilegedWorker } from './jobs';
import { WorkerClient } from './worker-client';

export interface LaunchedWorker {
  readonly client: WorkerClient;
  /** Resolves when the worker (or its elevation tool) has exited, with what to tell open jobs. */
  readonly exited: Promise<ErrorInfo>;
}

export interface LaunchOptions {
  readonly platform?: NodeJS.Platform;
  readonly onProtocolProblem?: (problem: string) => void;
}

/** Runs the worker without elevation (tests, or a GUI already started by an administrator). */
export function directPlan(entry: WorkerEntry): ElevationPlan {
  return { kind: 'inherit', command: entry.executable, args: entry.args, env: entry.env };
}

function toError(info: ErrorInfo): CardsmithError {
  return CardsmithError.fromInfo(info);
}

interface Exit {
  readonly code: number | null;
  readonly stderr: string;
  readonly spawnError?: NodeJS.ErrnoException;
}

function watchExit(child: ChildProcess): Promise<Exit> {
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-8192);
  });
  return new Promise((resolve) => {
    child.once('error', (spawnError: NodeJS.ErrnoException) => resolve({ code: null, stderr, spawnError }));
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

function explain(plan: ElevationPlan, platform: NodeJS.Platform, exit: Exit): ErrorInfo {
  if (exit.spawnError?.code === 'ENOENT') return missingElevationTool(platform, plan.command);
  return classifyElevationFailure(platform, exit.code, exit.stderr);
}

export async function launchWorker(plan: ElevationPlan, options: LaunchOptions = {}): Promise<LaunchedWorker> {
  const platform = options.platform ?? process.platform;
  switch (plan.kind) {
    case 'inherit': {
      const child = spawn(plan.command, [...plan.args], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'], env: { ...process.env, ...plan.env }, windowsHide: true });
      const exited = watchExit(child).then((exit) => explain(plan, platform, exit));
      const client = new WorkerClient({ stdin: child.stdin, stdout: child.stdout, channel: child.stdio[3] as Duplex }, { exited, onProtocolProblem: options.onProtocolProblem });
      return { client, exited };
    }
    case 'fifo':
      return launchRelayed(plan, platform, options, fifoRelay(plan.relay), async () => '');
    case 'named-pipe':
      return launchRelayed(plan, platform, options, namedPipeRelay(plan.relay), acceptText(plan.relay.errors));
  }
}

interface RelayEnds {
  /** Resolves when the elevated worker has opened both ends (and its byte channel, on Windows). */
  readonly connected: Promise<{ stdin: Writable; stdout: Readable; channel?: Duplex }>;
  /** Unblocks a pending connection after the elevation tool gave up. */
  abandon(): Promise<void>;
}

/**
 * Spawns the elevation tool, then waits for the worker to connect its stdio (`connect` gets a
 * promise of the tool's exit); `collectErrors` reads what the worker left on stderr elsewhere.
 */
async function launchRelayed(
  plan: Extract<ElevationPlan, { kind: 'fifo' | 'named-pipe' }>,
  platform: NodeJS.Platform,
  options: LaunchOptions,
  connect: (running: Promise<unknown>) => RelayEnds,
  collectErrors: () => Promise<string>,
): Promise<LaunchedWorker> {
  const child = spawn(plan.command, [...plan.args], { stdio: ['ignore', 'ignore', 'pipe'], windowsHide: true });
  const exit = watchExit(child);
  const ends = connect(exit);
  // The relay files are removed after the exit, but never while a blocked open still needs them.
  let relaySettled: () => void = () => undefined;
  const relayDone = new Promise<void>((resolve) => {
    relaySettled = resolve;
  });
  const exited = exit.then(async (result) => {
    await relayDone;
    const workerErrors = await collectErrors();
    return explain(plan, platform, { ...result, stderr: `${result.stderr}\n${workerErrors}` });
  });
  const outcome = await Promise.race([ends.connected.then((streams) => ({ streams })), exit.then(() => ({ streams: null }))]);
  if (outcome.streams === null) {
    await ends.abandon();
    relaySettled();
    throw toError(await exited);
  }
  relaySettled();
  const client = new WorkerClient(outcome.streams, { exited, onProtocolProblem: options.onProtocolProblem });
  return { client, exited };
}

/**
 * macOS: names a fresh FIFO directory under `base` (root-owned in production: /var/run). Nothing
 * is created here; the elevated shell creates it (elevation.ts relayedShellCommand).
 */
export function createFifoRelay(base = '/var/run', root = 0): FifoRelay {
  const dir = join(base, `cardsmith-${randomBytes(16).toString('hex')}`);
  return { dir, input: join(dir, 'stdin'), output: join(dir, 'stdout'), user: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }, root };
}

/**
 * True once the elevated side has made both FIFOs and given them to the user, inside a
 * directory only `root` can change — so what is opened is what root made, not a planted file.
 */
export function fifosReady(relay: FifoRelay): boolean {
  const dir = lstatSync(relay.dir, { throwIfNoEntry: false });
  if (!dir?.isDirectory() || dir.uid !== relay.root || (dir.mode & 0o022) !== 0) return false;
  return [relay.input, relay.output].every((path) => {
    const fifo = lstatSync(path, { throwIfNoEntry: false });
    return fifo?.isFIFO() === true && fifo.uid === relay.user.uid;
  });
}

const FIFO_POLL_MS = 50;

function openFd(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => open(path, flags, (error, fd) => (error ? reject(error) : resolve(fd))));
}

const fifoRelay =
  (relay: FifoRelay) =>
  (running: Promise<unknown>): RelayEnds => {
    let stopped = false;
    void running.then(() => (stopped = true));
    const appeared = (async () => {
      while (!fifosReady(relay)) {
        if (stopped) throw new Error('the elevated side ended before making its FIFOs');
        await new Promise((resolve) => setTimeout(resolve, FIFO_POLL_MS));
      }
    })();
    // Opening a FIFO blocks until the other side opens it; these wait on libuv's thread pool.
    // Plain descriptors, not FileHandles: the Sockets own them from here on.
    const opens = appeared.then(() =>
      Promise.allSettled([openFd(relay.input, constants.O_WRONLY | constants.O_NOFOLLOW), openFd(relay.output, constants.O_RDONLY | constants.O_NOFOLLOW)]),
    );
    let abandoned = false;
    const connected = opens.then(([input, output]) => {
      if (abandoned || input.status === 'rejected' || output.status === 'rejected') {
        for (const fd of [input, output]) if (fd.status === 'fulfilled') closeSync(fd.value);
        throw new Error('the worker never opened its FIFOs');
      }
      return {
        stdin: new Socket({ fd: input.value, readable: false, writable: true }),
        stdout: new Socket({ fd: output.value, readable: true, writable: false }),
      };
    });
    connected.catch(() => undefined);
    return {
      connected,
      async abandon() {
        abandoned = true;
        if (!(await appeared.then(() => true).catch(() => false))) return;
        // Open the far ends without blocking so the pending opens return; `connected` closes ours.
        const far = await Promise.allSettled([
          fs.open(relay.input, constants.O_RDONLY | constants.O_NONBLOCK),
          fs.open(relay.output, constants.O_WRONLY | constants.O_NONBLOCK),
        ]);
        // Both gone (root removed them): nothing can unblock the opens, so do not wait for them.
        if (far.some((handle) => handle.status === 'fulfilled')) await opens;
        for (const handle of far) if (handle.status === 'fulfilled') await handle.value.close();
      },
    };
  };

/**
 * Windows: a named pipe per stream (stderr too: a file in the user's temp folder, written by the
 * elevated side, would follow a link the user planted there), and a fourth for the byte channel
 * the worker serves cards on; each accepts exactly one connection, then stops listening.
 */
export function createNamedPipeRelay(): Relay {
  const name = `\\\\.\\pipe\\cardsmith-${process.pid}-${randomBytes(16).toString('hex')}`;
  return { input: `${name}-in`, output: `${name}-out`, errors: `${name}-err`, bytes: `${name}-bytes` };
}

const ERRORS_KEPT = 8192;
const ERRORS_GRACE_MS = 2000;

/**
 * Listens on `path` for the worker's stderr; the returned function (called once the elevation
 * tool has exited) stops listening and gives the last 8 KiB written, waiting briefly for the end.
 */
export function acceptText(path: string): () => Promise<string> {
  let text = '';
  let ended: Promise<void> | null = null;
  const server = createServer((socket) => {
    server.close();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text = (text + chunk).slice(-ERRORS_KEPT)));
    ended = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
  });
  server.on('error', () => undefined);
  server.listen(path);
  return async () => {
    server.close();
    if (ended) await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, ERRORS_GRACE_MS))]);
    return text;
  };
}

function acceptOne(path: string): { server: Server; socket: Promise<Socket> } {
  const server = createServer();
  const socket = new Promise<Socket>((resolve, reject) => {
    server.once('connection', (connection) => {
      server.close();
      resolve(connection);
    });
    server.once('error', reject);
  });
  server.listen(path);
  return { server, socket };
}

const namedPipeRelay = (relay: Relay) => (): RelayEnds => {
  const input = acceptOne(relay.input);
  const output = acceptOne(relay.output);
  const bytes = relay.bytes === undefined ? null : acceptOne(relay.bytes);
  return {
    connected: Promise.all([input.socket, output.socket, bytes?.socket]).then(([stdin, stdout, channel]) => ({ stdin, stdout, ...(channel ? { channel } : {}) })),
    async abandon() {
      input.server.close();
      output.server.close();
      bytes?.server.close();
    },
  };
};

/** The elevated way to start `entry` on this OS, with its relay created when the OS needs one. */
export async function elevatedPlan(platform: NodeJS.Platform, entry: WorkerEntry, linuxLauncher: string | null): Promise<ElevationPlan> {
  switch (platform) {
    case 'linux':
      return linuxPlan(entry, linuxLauncher);
    case 'darwin':
      return macPlan(entry, createFifoRelay());
    case 'win32':
      return windowsPlan(entry, createNamedPipeRelay());
    default:
      throw new CardsmithError('permission', `Cardsmith cannot ask for administrator rights on ${platform}`, { platform }, 'Run the cardsmith command line tool as root instead.');
  }
}

/**
 * One privileged worker at a time, started on first use (that is when the password prompt
 * appears) and started again if it has gone away.
 */
export class PrivilegedWorkerSource {
  private current: Promise<LaunchedWorker> | null = null;

  constructor(
    private readonly plan: () => Promise<ElevationPlan>,
    private readonly options: LaunchOptions = {},
  ) {}

  get(): Promise<PrivilegedWorker> {
    const attempt = this.current ?? this.launch();
    return attempt.then(
      (launched) => {
        if (!launched.client.closed) return launched.client;
        if (this.current === attempt) this.current = null;
        return this.get();
      },
      (error: unknown) => {
        // A refused prompt is not remembered: the next job asks again.
        if (this.current === attempt) this.current = null;
        throw error;
      },
    );
  }

  private launch(): Promise<LaunchedWorker> {
    this.current = this.plan().then((plan) => launchWorker(plan, this.options));
    return this.current;
  }

  /** True while a worker is started or starting. */
  get hasWorker(): boolean {
    return this.current !== null;
  }

  async shutdown(): Promise<void> {
    const launched = this.current ? await this.current.catch(() => null) : null;
    this.current = null;
    await launched?.client.shutdown();
  }
}
