import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type Bridge } from '../../bridge/server';
import { CONTENT_SECURITY_POLICY } from '../../../electron/main/security';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One raw HTTP request to the bridge, every header as given (Host included). */
function send(bridge: Bridge, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const { port } = new URL(bridge.origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, setHost: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('test bridge: hardened like the app:// handler', () => {
  let bridge: Bridge;
  let root: string;
  let token: string;
  let host: string;
  const json = { 'content-type': 'application/json' };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'cardsmith-bridge-'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><html><head><script type="module" src="./assets/app.js"></script></head><body></body></html>');
    writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1);');
    bridge = await startBridge({ root });
    token = new URL(bridge.url).pathname.split('/')[1]!;
    host = new URL(bridge.origin).host;
  });
  afterAll(async () => {
    await bridge.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers a malformed percent-encoding with 400 and keeps serving', async () => {
    const bad = await send(bridge, 'GET', `/${token}/%E0%A4%A`, { host });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/percent-encoding/);
    expect((await send(bridge, 'GET', `/${token}/`, { host })).status).toBe(200);
  });

  it('serves every page and asset with the app CSP', async () => {
    const page = await send(bridge, 'GET', `/${token}/`, { host });
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).toContain('<script src="./bridge-client.js"></script>');
    const asset = await send(bridge, 'GET', `/${token}/assets/app.js`, { host });
    expect(asset).toMatchObject({ status: 200, headers: { 'content-type': 'text/javascript; charset=utf-8', 'content-security-policy': CONTENT_SECURITY_POLICY } });
    const missing = await send(bridge, 'GET', `/${token}/assets/none.js`, { host });
    expect(missing).toMatchObject({ status: 404, headers: { 'content-security-policy': CONTENT_SECURITY_POLICY } });
  });

  it('refuses a Host other than the bound address (DNS rebinding)', async () => {
    const { port } = new URL(bridge.origin);
    for (const wrong of [`evil.example:${port}`, `localhost:${port}`, '127.0.0.1']) {
      expect((await send(bridge, 'GET', `/${token}/`, { host: wrong })).status).toBe(421);
    }
  });

  it('runs no job for a cross-origin page: foreign Origin, or a text/plain POST', async () => {
    const body = JSON.stringify({ job: 'x1', request: { op: 'listBoards' } });
    const foreign = await send(bridge, 'POST', `/${token}/run`, { host, origin: 'http://evil.example', ...json }, body);
    expect(foreign.status).toBe(403);
    const simple = await send(bridge, 'POST', `/${token}/run`, { host, 'content-type': 'text/plain' }, body);
    expect(simple.status).toBe(415);
    const noType = await send(bridge, 'POST', `/${token}/run`, { host }, body);
    expect(noType.status).toBe(415);
    expect(bridge.requests).toEqual([]);
  });

  it('answers bad bodies with 4xx and runs a well-formed same-origin job', async () => {
    expect((await send(bridge, 'POST', `/${token}/run`, { host, ...json }, '{not json')).status).toBe(400);
    expect((await send(bridge, 'POST', `/${token}/cancel`, { host, ...json }, '[1]')).status).toBe(400);
    expect((await send(bridge, 'POST', `/${token}/run`, { host, ...json }, 'x'.repeat(2 << 20))).status).toBe(413);
    expect((await send(bridge, 'POST', `/wrong-token/run`, { host, ...json }, '{}')).status).toBe(403);
    const ok = await send(bridge, 'POST', `/${token}/run`, { host, origin: bridge.origin, 'content-type': 'application/json; charset=utf-8' }, JSON.stringify({ job: 'j1', request: { op: 'listBoards' } }));
    expect(ok.status).toBe(200);
    expect(ok.body.trim().split('\n').map((line) => (JSON.parse(line) as { type: string }).type).at(-1)).toBe('result');
    expect(bridge.requests).toHaveLength(1);
  });
});
