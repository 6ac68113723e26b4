/**
 * The renderer's walls, as data. The app page is served from its own privileged scheme
 * (app://cardsmith/…) rather than file://, so it has a real origin for 'self' in the CSP and for
 * checking IPC senders, and so no other local file is reachable from the page. Every asset
 * response carries the CSP header; navigation anywhere else is refused.
 */
import { extname, join, normalize, sep } from 'node:path';
import type { WebPreferences } from 'electron';

export const APP_SCHEME = 'app';
export const APP_HOST = 'cardsmith';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * No inline script or style, no eval, no remote anything: the bundle is all the page runs.
 * React sets styles through the CSSOM, which style-src does not govern, so 'unsafe-inline' is
 * not needed.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

export function secureWebPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
  };
}

function parse(url: string | undefined | null): URL | null {
  if (!url) return null;
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** True only for the app's own page: IPC from any other frame or origin is refused. */
export function isAppUrl(url: string | undefined | null): boolean {
  const parsed = parse(url);
  return parsed !== null && parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === '';
}

/** Where a link the page tries to open may go: https pages open in the system browser, nothing else. */
export function externalLinkTarget(url: string): string | null {
  const parsed = parse(url);
  return parsed !== null && parsed.protocol === 'https:' ? parsed.toString() : null;
}

/**
 * Maps an app:// request to a file under `root`, or null when it names anything outside it
 * (`..`, encoded separators, NUL, another host).
 */
export function resolveAppAsset(root: string, url: string): string | null {
  const parsed = parse(url);
  if (!parsed || !isAppUrl(url)) return null;
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    return null;
  }
  if (path.includes('\0') || path.includes('\\')) return null;
  if (path === '/' || path === '') path = '/index.html';
  const base = normalize(root);
  const resolved = normalize(join(base, path));
  return resolved.startsWith(base.endsWith(sep) ? base : base + sep) ? resolved : null;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.wasm': 'application/wasm',
};

/** Response headers for one asset: its type, the CSP, and no MIME sniffing. */
export function assetHeaders(path: string): Record<string, string> {
  return {
    'Content-Type': CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}
