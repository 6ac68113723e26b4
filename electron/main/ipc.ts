/**
 * The only place with ipcMain: binds the renderer channels to the handlers in ipc-handlers.ts
 * (sender check + schema validation) and sends job events back to the page that asked.
 */
import { dialog, ipcMain, shell, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { logDir } from '../engine/flash/log';
import { createIpcHandlers, type SenderFrame } from './ipc-handlers';
import { IMAGE_FILE_FILTERS, IPC_CHANNELS } from './ipc-contract';
import type { JobRouter } from './jobs';

function senderFrame(event: IpcMainInvokeEvent): SenderFrame | null {
  const frame = event.senderFrame;
  return frame === null ? null : { url: frame.url, isTopLevel: frame.parent === null };
}

async function chooseImageFile(window: BrowserWindow | null): Promise<string | null> {
  const options = {
    title: 'Choose a disk image',
    properties: ['openFile' as const],
    filters: IMAGE_FILE_FILTERS.map((filter) => ({ name: filter.name, extensions: [...filter.extensions] })),
  };
  const chosen = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
  return chosen.canceled ? null : (chosen.filePaths[0] ?? null);
}

export function registerIpc(router: JobRouter, mainWindow: () => BrowserWindow | null): void {
  const handlers = createIpcHandlers(router, {
    chooseFile: () => chooseImageFile(mainWindow()),
    showItemInFolder: (path) => shell.showItemInFolder(path),
    logFolder: logDir(),
  });
  ipcMain.handle(IPC_CHANNELS.run, (event, payload: unknown) => {
    const contents = event.sender;
    handlers.run(senderFrame(event), payload, (envelope) => {
      if (!contents.isDestroyed()) contents.send(IPC_CHANNELS.event, envelope);
    });
  });
  ipcMain.handle(IPC_CHANNELS.cancel, (event, payload: unknown) => handlers.cancel(senderFrame(event), payload));
  ipcMain.handle(IPC_CHANNELS.chooseImageFile, (event) => handlers.chooseImageFile(senderFrame(event)));
  ipcMain.handle(IPC_CHANNELS.showItemInFolder, (event, payload: unknown) => handlers.showItemInFolder(senderFrame(event), payload));
}
