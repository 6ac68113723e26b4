/**
 * A real HTTP server on 127.0.0.1 (random port) for source tests and benchmarks. Each path serves
 * a body in one of several behaviours: plain (with Range support), drop the connection mid-body,
 * serve wrong bytes, answer 500 a number of times before 200, redirect, or 404. Bodies carry an
 * ETag ("v1", "v2" after the path is added again) and a matching If-None-Match gets 304. With
 * `bytesPerSecond`, every body is paced to that rate (a slow mirror); with a key and certificate
 * it speaks https instead. A body may carry a Content-Type (logos).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export type Behaviour =
  | { readonly kind: 'ok' }
  | { readonly kind: 'drop'; readonly afterBytes: number; readonly times: number }
  | { readonly kind: 'wrong' }
  | { readonly kind: 'fail'; readonly status: number; readonly times: number }
  | { readonly kind: 'no-range' }
  | { readonly kind: 'redirect'; readonly location: string };

interface Route {
  readonly body: Buffer;
  readonly behaviour: Behaviour;
  readonly etag: string;
  readonly contentType: string | undefined;
  served: number;
}

export interface TestServerOptions {
  /** Pace every response body to this many bytes per second. */
  readonly bytesPerSecond?: number;
  /** Speak https with this key and certificate (PEM). */
  readonly tls?: { readonly key: string; readonly cert: string };
}

export interface TestServer {
  readonly base: string;
  /** Serves `body` at `path` (with `contentType` as its Content-Type when given); returns its URL. */
  add(path: string, body: Buffer | string, behaviour?: Behaviour, contentType?: string): string;
  /** Requests seen per path, with their Range header. */
  readonly log: { path: string; range: string | undefined; status: number }[];
  close(): Promise<void>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const tls = options.tls;
  const routes = new Map<string, Route>();
  const log: TestServer['log'] = [];
  const handle = (request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse): void => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const route = routes.get(path);
    const range = request.headers.range;
    const record = (status: number): void => {
      log.push({ path, range, status });
    };
    if (!route) {
      record(404);
      response.writeHead(404).end('not found');
      return;
    }
    route.served += 1;
    const { behaviour } = route;
    if (behaviour.kind === 'redirect') {
      record(302);
      response.writeHead(302, { location: behaviour.location }).end();
      return;
    }
    if (behaviour.kind === 'fail' && route.served <= behaviour.times) {
      record(behaviour.status);
      response.writeHead(behaviour.status).end('try later');
      return;
    }
    let body = route.body;
    if (behaviour.kind === 'wrong') {
      body = Buffer.from(body);
      body[body.length >> 1] = body[body.length >> 1]! ^ 0xff;
    }
    const etag = route.etag;
    if (!range && request.headers['if-none-match'] === etag) {
      record(304);
      response.writeHead(304, { etag }).end();
      return;
    }
    const match = behaviour.kind !== 'no-range' && range ? /^bytes=(\d+)-$/.exec(range) : null;
    const ifRange = request.headers['if-range'];
    if (match && (!ifRange || ifRange === etag)) {
      const start = Number(match[1]);
      if (start >= body.length) {
        record(416);
        response.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      record(206);
      response.writeHead(206, {
        'content-length': body.length - start,
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
        etag,
      });
      sendBody(body.subarray(start), route, response, options.bytesPerSecond);
      return;
    }
    record(200);
    response.writeHead(200, {
      'content-length': body.length,
      etag,
      ...(behaviour.kind === 'no-range' ? {} : { 'accept-ranges': 'bytes' }),
      ...(route.contentType ? { 'content-type': route.contentType } : {}),
    });
    sendBody(body, route, response, options.bytesPerSecond);
  };
  const server: Server = tls ? createTlsServer(tls, handle) : createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    log,
    add(path, body, behaviour = { kind: 'ok' }, contentType = undefined) {
      const version = Number(/\d+/.exec(routes.get(path)?.etag ?? '"v0"')?.[0]) + 1;
      routes.set(path, { body: Buffer.isBuffer(body) ? body : Buffer.from(body), behaviour, etag: `"v${version}"`, contentType, served: 0 });
      return `${base}${path}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sendBody(body: Buffer, route: Route, response: ServerResponse, bytesPerSecond: number | undefined): void {
  const { behaviour } = route;
  if (behaviour.kind === 'drop' && route.served <= behaviour.times) {
    response.write(body.subarray(0, Math.min(behaviour.afterBytes, body.length)), () => {
      setTimeout(() => response.socket?.destroy(), 20);
    });
    return;
  }
  if (bytesPerSecond === undefined) response.end(body);
  else void sendPaced(body, response, bytesPerSecond);
}

const PACE_SLICE = 64 * 1024;

/** Sends `body` no faster than `bytesPerSecond`: each slice waits until its share of time has passed. */
async function sendPaced(body: Buffer, response: ServerResponse, bytesPerSecond: number): Promise<void> {
  const started = performance.now();
  for (let at = 0; at < body.length && !response.destroyed; at += PACE_SLICE) {
    const due = started + (at / bytesPerSecond) * 1000;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    if (!response.write(body.subarray(at, at + PACE_SLICE))) await new Promise<void>((resolve) => {
        const done = (): void => {
          response.off('drain', done);
          response.off('close', done);
          resolve();
        };
        response.on('drain', done);
        response.on('close', done);
      });
  }
  response.end();
}
