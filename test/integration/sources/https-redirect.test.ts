/**
 * A redirect that leaves https for plain http is refused, finally and at once, naming both URLs.
 * The https server is the real test server with a throwaway self-signed certificate from openssl;
 * only these requests trust it (the `ca` option), nothing process-wide.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CardsmithError } from '../../../electron/engine/errors';
import { getText } from '../../../electron/engine/sources/http';
import { describeWith } from '../../helpers/needs';
import { startTestServer, type TestServer } from './test-server';

const FAST = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 };

describeWith(['tool:openssl'], 'https redirects', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-tls-'));
  let plain: TestServer;
  let secure: TestServer;
  let ca: string;

  beforeAll(async () => {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'].concat(
        ['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      ),
      { stdio: 'ignore' },
    );
    ca = readFileSync(join(dir, 'cert.pem'), 'utf8');
    plain = await startTestServer();
    secure = await startTestServer({ tls: { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: ca } });
  });
  afterAll(async () => {
    await plain.close();
    await secure.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows https → https and http → https redirects', async () => {
    const target = secure.add('/catalog.json', 'over tls');
    const viaSecure = secure.add('/moved', '', { kind: 'redirect', location: '/catalog.json' });
    const viaPlain = plain.add('/upgrade', '', { kind: 'redirect', location: target });
    expect(await getText(viaSecure, { ca, retry: FAST })).toBe('over tls');
    expect(await getText(viaPlain, { ca, retry: FAST })).toBe('over tls');
  });

  it('refuses https → http as a final network error naming both URLs, without asking the http server', async () => {
    const insecure = plain.add('/catalog.json', 'in the clear');
    const start = secure.add('/downgrade', '', { kind: 'redirect', location: insecure });
    const error = await getText(start, { ca, retry: FAST }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CardsmithError);
    expect((error as CardsmithError).info).toMatchObject({ cause: 'network', details: { from: start, to: insecure } });
    expect((error as CardsmithError).message).toContain(start);
    expect((error as CardsmithError).message).toContain(insecure);
    expect(secure.log.filter((entry) => entry.path === '/downgrade')).toHaveLength(1);
    expect(plain.log.some((entry) => entry.path === '/catalog.json')).toBe(false);
  });
});
