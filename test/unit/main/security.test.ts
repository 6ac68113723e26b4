import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  APP_ENTRY_URL,
  assetHeaders,
  CONTENT_SECURITY_POLICY,
  externalLinkTarget,
  isAppUrl,
  resolveAppAsset,
  secureWebPreferences,
} from '../../../electron/main/security';

function directives(csp: string): Map<string, string[]> {
  return new Map(csp.split(';').map((part) => {
    const [name = '', ...values] = part.trim().split(/\s+/);
    return [name, values];
  }));
}

describe('content security policy', () => {
  const csp = directives(CONTENT_SECURITY_POLICY);

  it('denies by default and allows scripts and styles only from the app itself', () => {
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('style-src')).toEqual(["'self'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
  });

  it('has no escape hatch: no unsafe-*, no wildcard, no remote host', () => {
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-|\*|https?:|wasm-unsafe/);
  });

  it('is sent with every asset, with the right type and no sniffing', () => {
    expect(assetHeaders('/r/index.html')).toMatchObject({ 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' });
    expect(assetHeaders('/r/assets/app-1.JS')['Content-Type']).toBe('text/javascript; charset=utf-8');
    expect(assetHeaders('/r/blob.bin')['Content-Type']).toBe('application/octet-stream');
  });
});

describe('web preferences', () => {
  it('isolate and sandbox the page with no Node anywhere', () => {
    expect(secureWebPreferences('/app/out/main/preload.cjs')).toMatchObject({
      preload: '/app/out/main/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });
});

describe('the app origin', () => {
  it('accepts only the app page as an IPC sender', () => {
    expect(isAppUrl(APP_ENTRY_URL)).toBe(true);
    expect(isAppUrl('app://cardsmith/index.html#/flash')).toBe(true);
    for (const url of ['file:///work/out/renderer/index.html', 'https://cardsmith.example/', 'app://evil/index.html', 'app://x@cardsmith/', 'app://cardsmith.evil/', 'devtools://devtools/', '', undefined, null, 'not a url']) {
      expect(isAppUrl(url), String(url)).toBe(false);
    }
  });

  it('opens only https links, and those outside the app', () => {
    expect(externalLinkTarget('https://www.debian.org/')).toBe('https://www.debian.org/');
    for (const url of ['http://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'app://cardsmith/x', 'smb://host/share']) expect(externalLinkTarget(url)).toBeNull();
  });
});

describe('serving the renderer bundle', () => {
  const root = mkdtempSync(join(tmpdir(), 'cardsmith-renderer-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html>');
  writeFileSync(join(root, 'assets', 'a b.js'), '');

  it('maps app URLs to files under the bundle folder', () => {
    expect(resolveAppAsset(root, 'app://cardsmith/')).toBe(join(root, 'index.html'));
    expect(resolveAppAsset(root, 'app://cardsmith/index.html?x=1#y')).toBe(join(root, 'index.html'));
    expect(resolveAppAsset(root, 'app://cardsmith/assets/a%20b.js')).toBe(join(root, 'assets', 'a b.js'));
  });

  it('refuses anything that escapes the folder or names another host', () => {
    for (const url of [
      'app://cardsmith/assets/..%2f..%2f..%2fetc%2fpasswd',
      'app://cardsmith/..%5c..%5cwindows',
      'app://cardsmith/index.html%00.js',
      'app://cardsmith/%E0%A4%A',
      'app://other/index.html',
      'file:///etc/passwd',
    ]) {
      expect(resolveAppAsset(root, url), url).toBeNull();
    }
  });

  it('keeps dot segments inside the folder (the URL parser resolves them first)', () => {
    expect(resolveAppAsset(root, 'app://cardsmith/../../etc/passwd')).toBe(join(root, 'etc', 'passwd'));
    expect(resolveAppAsset(root, 'app://cardsmith/%2e%2e/%2e%2e/etc/passwd')).toBe(join(root, 'etc', 'passwd'));
  });
});
