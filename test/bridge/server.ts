/**
 * The test/dev bridge: a loopback HTTP server that serves the built renderer (out/renderer) and
 * backs its `window.cardsmith` with the real engine (`runRequest`), so a browser can drive the
 * whole app without Electron. Never shipped.
 *
 * Safety: it listens on 127.0.0.1 only, on a random port, and every request must start with a
 * random token path segment (`/<token>/…`); anything else is 403. Relative asset URLs of the
 * Vite build (base './') therefore carry the token by themselves. As the app:// handler does, every
 * response carries the app's CSP. Another web page in the same browser must not reach the engine:
 * the Host header must be the bound address (a DNS-rebound name is refused), an Origin header
 * must be the bridge's own, and a POST must be `application/json` (a cross-origin page can only
 * send "simple" content types without a CORS preflight, which is never answered). Every failure
 * is answered with a 4xx/5xx, never thrown. Loop devices are offered only when the bridge was
 * started with `allowLoop`, by setting the request's own loop flags.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { assetHeaders, CONTENT_SECURITY_POLICY } from '../../electron/main/security';
import { runRequest } from '../../electron/engine/operations';
import type { JobEvent } from '../../electron/engine/api';
import type { Drive } from '../../electron/engine/drives/model';

export interface BridgeOptions {
  /** Folder of the built renderer (index.html + assets/). */
  readonly root: string;
  /**
   * Offer loop devices as cards (listDrives includeLoop, flash/flashMany/verify/installLoader allowLoop):
   * `true` offers every loop device; a list offers only those, so a test running beside others that
   * attach loop devices sees just its own card.
   */
  readonly allowLoop?: LoopPolicy;
}

export interface Bridge {
  /** The app's address, token included. */
  readonly url: string;
  readonly origin: string;
  /** What the next `chooseImageFile()` in the page returns (the stand-in for a native dialog). */
  setChosenFile(path: string | null): void;
  /** Every path the page asked to show in the file manager (`showItemInFolder`), in order. */
  readonly shownItems: readonly string[];
  /** Every request the page started, after the loop flags were applied, in order. */
  readonly requests: readonly unknown[];
  close(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));

const MAX_BODY_BYTES = 1 << 20;

async function bundleBrowserClient(): Promise<string> {
  const result = await build({
    entryPoints: [join(here, 'browser-client.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'warning',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('bridge: bundling the browser client produced nothing');
  return file.text;
}

/** A request the bridge answers with `status` instead of serving it. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new Refusal(413, 'request body too large');
    chunks.push(buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new Refusal(400, 'request body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Refusal(400, 'request body is not a JSON object');
  return body as Record<string, unknown>;
}

/** Why a request may not be served (Host, Origin, content type), or null when it may. */
function refusalOf(req: IncomingMessage, host: string, origin: string): Refusal | null {
  if (req.headers.host !== host) return new Refusal(421, `wrong Host header (expected ${host})`);
  if (req.headers.origin !== undefined && req.headers.origin !== origin) return new Refusal(403, 'cross-origin request refused');
  if (req.method === 'POST' && !/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) return new Refusal(415, 'a POST must be application/json');
  return null;
}

export type LoopPolicy = boolean | readonly string[];

function loopAllowed(policy: LoopPolicy, device: unknown): boolean {
  return policy === true || (Array.isArray(policy) && typeof device === 'string' && policy.includes(device));
}

/** Applies the bridge's loop policy to a request from the page; the page cannot ask for loops itself. */
export function applyLoopPolicy(request: unknown, policy: LoopPolicy): unknown {
  if (typeof request !== 'object' || request === null) return request;
  const r = request as Record<string, unknown>;
  switch (r.op) {
    case 'listDrives':
      return { ...r, includeLoop: policy !== false };
    case 'flash':
    case 'verify':
      return { ...r, allowLoop: loopAllowed(policy, r.device) };
    case 'installLoader':
      return { ...r, allowLoop: loopAllowed(policy, r.target) };
    case 'flashMany':
      return { ...r, allowLoop: Array.isArray(r.devices) && r.devices.length > 0 && r.devices.every((device) => loopAllowed(policy, device)) };
    default:
      return r;
  }
}

/** With a list policy, a drive list keeps only the loop devices on the list. */
export function filterLoopDrives(event: JobEvent, policy: LoopPolicy): JobEvent {
  if (!Array.isArray(policy) || event.type !== 'result' || event.op !== 'listDrives') return event;
  const result = event.result as { drives: readonly Drive[] };
  return { ...event, result: { ...result, drives: result.drives.filter((d) => d.readerKind !== 'loop' || policy.includes(d.device)) } };
}

function injectClient(html: string): string {
  const tag = '<script src="./bridge-client.js"></script>';
  return html.includes('<script') ? html.replace('<script', `${tag}\n    <script`) : html.replace('</head>', `${tag}</head>`);
}

export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const token = randomBytes(24).toString('hex');
  const tokenBytes = Buffer.from(token);
  const allowLoop = options.allowLoop ?? false;
  const clientScript = await bundleBrowserClient();
  const jobs = new Map<string, AbortController>();
  const requests: unknown[] = [];
  const shownItems: string[] = [];
  let chosenFile: string | null = null;

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer): void => {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': CONTENT_SECURITY_POLICY,
    });
    res.end(body);
  };
  const sendFile = (res: ServerResponse, file: string, body: string | Buffer): void => {
    res.writeHead(200, { ...assetHeaders(file), 'Cache-Control': 'no-store' });
    res.end(body);
  };

  async function serveStatic(res: ServerResponse, rest: string): Promise<void> {
    const relative = normalize(rest === '' ? 'index.html' : rest);
    const file = join(options.root, relative);
    if (relative.startsWith('..') || !file.startsWith(options.root + sep)) return send(res, 404, 'text/plain', 'not found');
    try {
      const data = await readFile(file);
      if (relative === 'index.html') return sendFile(res, file, injectClient(data.toString('utf8')));
      sendFile(res, file, data);
    } catch {
      send(res, 404, 'text/plain', 'not found');
    }
  }

  async function runJob(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const job = typeof body.job === 'string' && body.job.length > 0 && body.job.length <= 64 ? body.job : null;
    if (!job || jobs.has(job)) return send(res, 400, 'text/plain', 'bad job id');
    const controller = new AbortController();
    jobs.set(job, controller);
    const request = applyLoopPolicy(body.request, allowLoop);
    requests.push(request);
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-security-policy': CONTENT_SECURITY_POLICY });
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    try {
      await runRequest(request, (event) => res.write(`${JSON.stringify(filterLoopDrives(event, allowLoop))}\n`), controller.signal);
    } finally {
      jobs.delete(job);
      res.end();
    }
  }

  let host = '';
  let origin = '';
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refusal = refusalOf(req, host, origin);
    if (refusal) throw refusal;
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', origin).pathname;
    } catch {
      throw new Refusal(400, 'malformed request target');
    }
    const [, first = '', ...restParts] = pathname.split('/');
    const given = Buffer.from(first);
    if (given.length !== tokenBytes.length || !timingSafeEqual(given, tokenBytes)) throw new Refusal(403, 'forbidden');
    let rest: string;
    try {
      rest = decodeURIComponent(restParts.join('/'));
    } catch {
      throw new Refusal(400, 'malformed percent-encoding in the path');
    }
    if (req.method === 'GET' && rest === 'bridge-client.js') return sendFile(res, 'bridge-client.js', clientScript);
    if (req.method === 'GET') return serveStatic(res, rest);
    if (req.method !== 'POST') throw new Refusal(405, 'method not allowed');
    if (rest === 'run') return runJob(req, res);
    if (rest === 'cancel') {
      const body = await readBody(req);
      if (typeof body.job === 'string') jobs.get(body.job)?.abort();
      return send(res, 200, 'application/json', '{}');
    }
    if (rest === 'choose-image-file') {
      await readBody(req);
      const path = chosenFile;
      return send(res, 200, 'application/json', JSON.stringify({ path }));
    }
    if (rest === 'show-item-in-folder') {
      const body = await readBody(req);
      if (typeof body.path !== 'string' || body.path === '') throw new Refusal(400, 'no path');
      shownItems.push(body.path);
      return send(res, 200, 'application/json', '{}');
    }
    throw new Refusal(404, 'not found');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.end();
        return;
      }
      const status = error instanceof Refusal ? error.status : 500;
      // A body left unread would be parsed as the next request on this connection.
      if (!req.complete) res.setHeader('connection', 'close');
      send(res, status, 'text/plain; charset=utf-8', error instanceof Error ? error.message : String(error));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  host = `127.0.0.1:${port}`;
  origin = `http://${host}`;
  return {
    url: `${origin}/${token}/`,
    origin,
    requests,
    shownItems,
    setChosenFile(path) {
      chosenFile = path;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const controller of jobs.values()) controller.abort();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
