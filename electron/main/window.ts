/**
 * The one window and the page it shows. The renderer bundle is served from the privileged
 * app:// scheme with the CSP on every response; the window can neither navigate away, open other
 * windows, attach webviews nor be granted permissions (camera, notifications…): the page has
 * nothing to ask for beyond window.cardsmith.
 */
import { readFile } from 'node:fs/promises';
import { BrowserWindow, protocol, session, shell } from 'electron';
import { APP_ENTRY_URL, APP_SCHEME, assetHeaders, externalLinkTarget, isAppUrl, resolveAppAsset, secureWebPreferences } from './security';

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
  ]);
}

/** Serves files under `rendererRoot` (out/renderer) as app://cardsmith/…; must run once the app is ready. */
export function serveRenderer(rendererRoot: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const path = resolveAppAsset(rendererRoot, request.url);
    if (path === null) return new Response('Not found', { status: 404 });
    try {
      return new Response(new Uint8Array(await readFile(path)), { headers: assetHeaders(path) });
    } catch {
      return new Response('Not found', { status: 404 });
    }
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}

export function createMainWindow(preload: string): BrowserWindow {
  const window = new BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 760,
    minHeight: 560,
    show: false,
    title: 'Cardsmith',
    webPreferences: secureWebPreferences(preload),
  });
  const contents = window.webContents;
  const refuseForeign = (event: { preventDefault(): void }, url: string): void => {
    if (!isAppUrl(url)) event.preventDefault();
  };
  contents.on('will-navigate', (event) => refuseForeign(event, event.url));
  contents.on('will-frame-navigate', (event) => refuseForeign(event, event.url));
  contents.on('will-redirect', (event) => refuseForeign(event, event.url));
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    const external = externalLinkTarget(url);
    if (external !== null) void shell.openExternal(external);
    return { action: 'deny' };
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(APP_ENTRY_URL);
  return window;
}
