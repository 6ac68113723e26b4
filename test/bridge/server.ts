/**
 * The test/dev bridge: a loopback HTTP server that serves the built renderer (out/renderer) and
 * backs its `window.cardsmith` with the real engine (`runRequest`), so a browser can drive the
 * whole app without Electron. Never shipped.
 *
 * Safety: it listens on 127.0.0.1 only, on a random port, and every request must start with a
 * random token path segment (`/<token>/…`); anything else is 403. Relative asset URLs of the
 * Vite build (base './') therefore carry the token by themselves. Loop devices are offered only
 * when the bridge was started with `allowLoop`, by setting the request's own loop flags.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { runRequest } from '../../electron/engine/operations';
import type { JobEvent } from '../../electron/engine/api';
import type { Drive } from '../../electron/engine/drives/model';

export interface BridgeOptions {
  /** Folder of the built renderer (index.html + assets/). */
  readonly root: string;
  /**
   * Offer loop devices as cards (listDrives includeLoop, flash/verify/installLoader allowLoop):
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

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

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

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
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
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(body);
  };

  async function serveStatic(res: ServerResponse, rest: string): Promise<void> {
    const relative = normalize(rest === '' ? 'index.html' : rest);
    const file = join(options.root, relative);
    if (relative.startsWith('..') || !file.startsWith(options.root + sep)) return send(res, 404, 'text/plain', 'not found');
    try {
      const data = await readFile(file);
      if (relative === 'index.html') return send(res, 200, CONTENT_TYPES['.html'] ?? 'text/html', injectClient(data.toString('utf8')));
      send(res, 200, CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', data);
    } catch {
      send(res, 404, 'text/plain', 'not found');
    }
  }

  async function runJob(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readBody(req)) as { job?: unknown; request?: unknown };
    const job = typeof body.job === 'string' && body.job.length > 0 && body.job.length <= 64 ? body.job : null;
    if (!job || jobs.has(job)) return send(res, 400, 'text/plain', 'bad job id');
    const controller = new AbortController();
    jobs.set(job, controller);
    const request = applyLoopPolicy(body.request, allowLoop);
    requests.push(request);
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
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

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const [, first = '', ...restParts] = url.pathname.split('/');
    const given = Buffer.from(first);
    if (given.length !== tokenBytes.length || !timingSafeEqual(given, tokenBytes)) return send(res, 403, 'text/plain', 'forbidden');
    const rest = decodeURIComponent(restParts.join('/'));
    const handle = async (): Promise<void> => {
      if (req.method === 'GET' && rest === 'bridge-client.js') return send(res, 200, CONTENT_TYPES['.js'] ?? 'text/javascript', clientScript);
      if (req.method === 'GET') return serveStatic(res, rest);
      if (req.method !== 'POST') return send(res, 405, 'text/plain', 'method not allowed');
      if (rest === 'run') return runJob(req, res);
      if (rest === 'cancel') {
        const body = (await readBody(req)) as { job?: unknown };
        if (typeof body.job === 'string') jobs.get(body.job)?.abort();
        return send(res, 200, 'application/json', '{}');
      }
      if (rest === 'choose-image-file') {
        await readBody(req);
        const path = chosenFile;
        return send(res, 200, 'application/json', JSON.stringify({ path }));
      }
      if (rest === 'show-item-in-folder') {
        const body = (await readBody(req)) as { path?: unknown };
        if (typeof body.path !== 'string' || body.path === '') return send(res, 400, 'text/plain', 'no path');
        shownItems.push(body.path);
        return send(res, 200, 'application/json', '{}');
      }
      send(res, 404, 'text/plain', 'not found');
    };
    handle().catch((error: unknown) => {
      if (!res.headersSent) send(res, 400, 'text/plain', error instanceof Error ? error.message : String(error));
      else res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
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
