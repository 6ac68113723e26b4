/**
 * The sandboxed preload: the only code with ipcRenderer. It exposes exactly `window.cardsmith`
 * (CardsmithApi) to the isolated page; raw IPC objects never cross the bridge.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { createCardsmithApi } from './api-client';
import { IPC_CHANNELS } from './ipc-contract';

let counter = 0;
const newJobId = (): string => `job-${Date.now().toString(36)}-${(counter += 1)}`;

const api = createCardsmithApi(
  {
    invoke: (channel, payload) => ipcRenderer.invoke(channel, payload),
    onEvent(listener) {
      const handler = (_event: Electron.IpcRendererEvent, payload: unknown): void => listener(payload);
      ipcRenderer.on(IPC_CHANNELS.event, handler);
      return () => ipcRenderer.off(IPC_CHANNELS.event, handler);
    },
  },
  process.platform,
  newJobId,
  (file) => webUtils.getPathForFile(file),
);

contextBridge.exposeInMainWorld('cardsmith', api);
