// `npm start`: builds the app and starts it in Electron. Where Electron's binary cannot be
// installed (it is downloaded on first use; development machines without internet cannot), it
// says so and serves the same renderer on 127.0.0.1 with the engine behind the development bridge
// (test/bridge, never shipped), printing the address to open in a browser.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status === 0;

if (!run(process.execPath, [join(root, 'scripts/build.mjs'), 'all'])) process.exit(1);

// require('electron') returns the binary's path, downloading it on first use.
const probe = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], { cwd: root, encoding: 'utf8' });
if (probe.status === 0 && probe.stdout) {
  const app = spawn(probe.stdout, [root], { cwd: root, stdio: 'inherit' });
  app.on('exit', (code) => process.exit(code ?? 0));
} else {
  const reason = (probe.stderr || '').trim().split('\n').find((line) => /Error|error/.test(line)) ?? 'unknown reason';
  console.log(`Electron could not be started here (${reason}).`);
  console.log('Serving the app in the browser instead, with the engine behind a loopback bridge (development only).');
  const bridge = spawn(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'test/bridge/main.ts'), ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
  });
  bridge.on('exit', (code) => process.exit(code ?? 0));
}
