'use strict';
/* global Request */
// A stand-in for the `electron` module (the binary cannot be installed here), preloaded with
// `node -r` before out/main/main.cjs. It records what the main bundle asks of Electron, then
// drives the registered handlers like Electron would and prints one JSON report on stdout.
const Module = require('node:module');
const { EventEmitter } = require('node:events');
const childProcess = require('node:child_process');

const report = { lockRequested: 0, privilegedSchemes: [], protocolBeforeReady: null, windows: [], ipcChannels: [], menu: null, permissionHandlers: 0, utilityForks: [] };
const protocols = new Map();
const ipcHandlers = new Map();
let ready = false;

class WebContents extends EventEmitter {
  constructor() {
    super();
    this.sent = [];
    this.openHandler = null;
  }
  setWindowOpenHandler(handler) {
    this.openHandler = handler;
  }
  isDestroyed() {
    return false;
  }
  send(channel, payload) {
    this.sent.push({ channel, payload });
  }
}

class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    this.options = options;
    this.webContents = new WebContents();
    this.loaded = null;
    BrowserWindow.all.push(this);
    report.windows.push(options);
  }
  static getAllWindows() {
    return BrowserWindow.all;
  }
  loadURL(url) {
    this.loaded = url;
    return Promise.resolve();
  }
  isDestroyed() {
    return false;
  }
  isMinimized() {
    return false;
  }
  isVisible() {
    return true;
  }
  show() {}
  focus() {}
  restore() {}
}
BrowserWindow.all = [];

const app = new EventEmitter();
Object.assign(app, {
  isPackaged: false,
  requestSingleInstanceLock() {
    report.lockRequested += 1;
    return process.env.STUB_LOCK !== 'taken';
  },
  quit() {
    report.quit = true;
    process.stdout.write(`${JSON.stringify(report)}\n`);
  },
  exit() {},
  getAppPath: () => process.cwd(),
  whenReady() {
    return new Promise((resolve) => setTimeout(() => {
      ready = true;
      resolve();
      setTimeout(drive, 10);
    }, 5));
  },
});

const electron = {
  app,
  BrowserWindow,
  protocol: {
    registerSchemesAsPrivileged(schemes) {
      report.privilegedSchemes.push(...schemes);
      report.protocolBeforeReady = !ready;
    },
    handle(scheme, handler) {
      protocols.set(scheme, handler);
    },
  },
  session: { defaultSession: { setPermissionRequestHandler: () => report.permissionHandlers++, setPermissionCheckHandler: () => report.permissionHandlers++ } },
  ipcMain: {
    handle(channel, handler) {
      report.ipcChannels.push(channel);
      ipcHandlers.set(channel, handler);
    },
  },
  // A utility process is a Node child with an IPC channel here, shaped like Electron's UtilityProcess.
  utilityProcess: {
    fork(modulePath, args, options) {
      report.utilityForks.push({ modulePath, args, options, ready });
      const child = childProcess.fork(modulePath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child.on('error', () => undefined);
      return {
        postMessage: (message) => child.send(message),
        on(event, listener) {
          child.on(event, listener);
          return this;
        },
        kill: () => child.kill(),
      };
    },
  },
  Menu: {
    buildFromTemplate: (template) => ({ template }),
    setApplicationMenu(menu) {
      report.menu = menu.template.map((item) => item.role ?? item.label);
    },
  },
  dialog: { showOpenDialog: async (_window, options) => ({ canceled: false, filePaths: ['/chosen.img'], options }) },
  shell: {
    openExternal: async (url) => (report.openedExternally = url),
    showItemInFolder: (path) => (report.shownItems = [...(report.shownItems ?? []), path]),
  },
};

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === 'electron' ? 'electron-stub' : resolve.call(this, request, ...rest);
};
require.cache['electron-stub'] = { id: 'electron-stub', filename: 'electron-stub', loaded: true, exports: electron };

async function drive() {
  const window = BrowserWindow.all[0];
  const contents = window.webContents;
  report.loadedUrl = window.loaded;
  const serve = protocols.get('app');
  const page = await serve(new Request('app://cardsmith/index.html'));
  report.page = { status: page.status, csp: page.headers.get('content-security-policy'), type: page.headers.get('content-type'), body: (await page.text()).slice(0, 200) };
  report.traversal = (await serve(new Request('app://cardsmith/..%2f..%2fpackage.json'))).status;

  const navigation = (url) => {
    let prevented = false;
    contents.emit('will-navigate', { url, preventDefault: () => (prevented = true) });
    return prevented;
  };
  report.navigationPrevented = { foreign: navigation('https://evil.example/'), own: navigation('app://cardsmith/index.html') };
  report.windowOpen = contents.openHandler({ url: 'https://www.debian.org/' });

  const event = (url, parent = null) => ({ senderFrame: { url, parent }, sender: contents });
  try {
    await ipcHandlers.get('cardsmith:run')(event('file:///etc/passwd'), { job: 'j1', request: { op: 'listBoards' } });
    report.foreignRun = 'accepted';
  } catch (error) {
    report.foreignRun = error.message;
  }
  await ipcHandlers.get('cardsmith:run')(event('app://cardsmith/index.html'), { job: 'j2', request: { op: 'listBoards' } });
  for (let i = 0; i < 200 && !contents.sent.some(({ payload }) => payload.event.type === 'result' || payload.event.type === 'error'); i += 1) {
    await new Promise((done) => setTimeout(done, 50));
  }
  report.events = contents.sent.map(({ channel, payload }) => ({ channel, job: payload.job, type: payload.event.type }));
  report.chosen = await ipcHandlers.get('cardsmith:choose-image-file')(event('app://cardsmith/index.html'));
  const show = async (path) => {
    try {
      await ipcHandlers.get('cardsmith:show-item-in-folder')(event('app://cardsmith/index.html'), { path });
      return 'shown';
    } catch (error) {
      return error.message;
    }
  };
  report.showLog = await show(`${process.env.CARDSMITH_LOG_DIR}/flash-sdz.log`);
  report.showOther = await show('/etc/passwd');
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
}
