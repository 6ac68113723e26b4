/**
 * Browser e2e plumbing: build the renderer with Vite's API, start the test bridge on it, and
 * drive Debian's chromium through playwright-core with a fresh profile. Screenshots go to
 * test-artifacts/e2e/<suite>/ so CI keeps a picture of every step.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startBridge, type Bridge, type LoopPolicy } from '../bridge/server';

export const ROOT = join(__dirname, '..', '..');
export const CHROMIUM = '/usr/bin/chromium';
const RENDERER_OUT = join(ROOT, 'out', 'renderer');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

let built: Promise<void> | null = null;

/** Builds the renderer once per test process (Vite's API, the same config the app build uses). */
export function buildRenderer(): Promise<void> {
  built ??= import('vite').then(async ({ build }) => {
    await build({ configFile: join(ROOT, 'renderer', 'vite.config.mts'), logLevel: 'warn' });
  });
  return built;
}

export interface Session {
  readonly bridge: Bridge;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly shot: (name: string) => Promise<void>;
  /** Browser console errors and uncaught page errors seen so far. */
  readonly pageErrors: string[];
  close(): Promise<void>;
}

export async function openSession(suite: string, options: { allowLoop?: LoopPolicy; width?: number; height?: number } = {}): Promise<Session> {
  await buildRenderer();
  const bridge = await startBridge({ root: RENDERER_OUT, allowLoop: options.allowLoop ?? false });
  const profile = mkdtempSync(join(tmpdir(), 'cardsmith-chromium-'));
  const shots = join(ROOT, 'test-artifacts', 'e2e', suite);
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  let context: BrowserContext | null = null;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: options.width ?? 1024, height: options.height ?? 720 },
      locale: 'en-US',
      colorScheme: 'light',
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(bridge.url);
    const ctx = context;
    return {
      bridge,
      context: ctx,
      page,
      pageErrors,
      shot: async (name) => {
        await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
      },
      close: async () => {
        await ctx.close();
        await bridge.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await context?.close();
    await bridge.close();
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}
