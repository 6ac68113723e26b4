/**
 * The Electron main process: lifecycle only. It holds the single-instance lock, serves the page,
 * opens the one window, installs the menu and IPC, and owns the lifetime of the job host (a
 * utility process for the unprivileged operations) and the privileged worker. It never runs an
 * operation itself (jobs.ts routes them) and never runs as root: device writes happen in
 * `cardsmith worker`, started elevated on first need (elevation.ts).
 */
import { join } from 'node:path';
import { app, BrowserWindow, Menu, utilityProcess } from 'electron';
import { LINUX_LAUNCHER, workerEntry } from './elevation';
import { registerIpc } from './ipc';
import { JobHostClient } from './job-host-client';
import { JobRouter } from './jobs';
import { applicationMenu } from './menu';
import { actionsOnSecondInstance, type WindowAction } from './single-instance';
import { createMainWindow, registerAppScheme, serveRenderer } from './window';
import { directPlan, elevatedPlan, PrivilegedWorkerSource } from './worker-launcher';

let mainWindow: BrowserWindow | null = null;

function applyAction(action: WindowAction, preload: string): void {
  switch (action) {
    case 'create':
      mainWindow = createMainWindow(preload);
      return;
    case 'restore':
      mainWindow?.restore();
      return;
    case 'show':
      mainWindow?.show();
      return;
    case 'focus':
      mainWindow?.focus();
      return;
  }
}

function windowState(): { exists: boolean; minimized: boolean; visible: boolean } {
  const window = mainWindow !== null && !mainWindow.isDestroyed() ? mainWindow : null;
  return { exists: window !== null, minimized: window?.isMinimized() ?? false, visible: window?.isVisible() ?? false };
}

function start(): void {
  const preload = join(__dirname, 'preload.cjs');
  const entry = workerEntry(process.execPath, join(app.getAppPath(), 'dist', 'cli.cjs'));
  const launcher = app.isPackaged ? join(process.resourcesPath, LINUX_LAUNCHER) : null;
  const workers = new PrivilegedWorkerSource(async () =>
    process.getuid?.() === 0 ? directPlan(entry) : elevatedPlan(process.platform, entry, launcher),
  );
  const host = new JobHostClient(
    () => utilityProcess.fork(join(__dirname, 'job-host.cjs'), [], { serviceName: 'Cardsmith jobs', stdio: 'inherit' }),
    (problem) => console.error(`job host: ${problem}`),
  );
  const router = new JobRouter({ privilegedWorker: () => workers.get(), jobHost: host });

  app.on('second-instance', () => {
    for (const action of actionsOnSecondInstance(windowState())) applyAction(action, preload);
  });
  app.on('window-all-closed', () => {
    router.cancelAll();
    app.quit();
  });
  app.on('will-quit', (event) => {
    if (router.size === 0 && !workers.hasWorker && !host.running) return;
    // Let cancelled jobs leave the card (and temporary files) in a safe state and both helper
    // processes exit before quitting.
    event.preventDefault();
    router.cancelAll();
    void Promise.allSettled([workers.shutdown(), host.shutdown()]).finally(() => app.exit(0));
  });

  void app.whenReady().then(() => {
    serveRenderer(join(__dirname, '..', 'renderer'));
    Menu.setApplicationMenu(applicationMenu(process.platform));
    registerIpc(router, () => mainWindow);
    applyAction('create', preload);
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) applyAction('create', preload);
    });
  });
}

registerAppScheme();
if (app.requestSingleInstanceLock()) start();
else app.quit();
