/**
 * A real HTTP server on 127.0.0.1 (random port) for source tests. Each path serves a body in one
 * of several behaviours: plain (with Range support), drop the connection mid-body, serve wrong
 * bytes, answer 500 a number of times before 200, redirect, or 404. With a key and certificate it
 * speaks https instead.
 */
import { createServer, type Server } from 'node:http';
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
  served: number;
}

export interface TestServer {
  readonly base: string;
  add(path: string, body: Buffer | string, behaviour?: Behaviour): string;
  /** Requests seen per path, with their Range header. */
  readonly log: { path: string; range: string | undefined; status: number }[];
  close(): Promise<void>;
}

export async function startTestServer(tls?: { readonly key: string; readonly cert: string }): Promise<TestServer> {
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
    const etag = '"v1"';
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
      sendBody(body.subarray(start), route, response);
      return;
    }
    record(200);
    response.writeHead(200, { 'content-length': body.length, etag, ...(behaviour.kind === 'no-range' ? {} : { 'accept-ranges': 'bytes' }) });
    sendBody(body, route, response);
  };
  const server: Server = tls ? createTlsServer(tls, handle) : createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    log,
    add(path, body, behaviour = { kind: 'ok' }) {
      routes.set(path, { body: Buffer.isBuffer(body) ? body : Buffer.from(body), behaviour, served: 0 });
      return `${base}${path}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sendBody(body: Buffer, route: Route, response: import('node:http').ServerResponse): void {
  const { behaviour } = route;
  if (behaviour.kind === 'drop' && route.served <= behaviour.times) {
    response.write(body.subarray(0, Math.min(behaviour.afterBytes, body.length)), () => {
      setTimeout(() => response.socket?.destroy(), 20);
    });
    return;
  }
  response.end(body);
}
