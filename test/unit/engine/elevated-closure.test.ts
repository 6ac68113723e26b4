/**
 * What the elevated part can run: the import closure of `cardsmith worker`, as esbuild bundles
 * it. It must hold no parser of untrusted formats (images, archives, tarballs, bmaps, catalogs,
 * board files, URLs) and no writer of files: only the contract's schemas, the drive scanner and
 * safety rules, unmounting, opening the card, and starting the card job.
 */
import { build } from 'esbuild';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(__dirname, '..', '..', '..');

// Every engine module the elevated part may load, and why it is safe to.
const ALLOWED = new Map<string, string>([
  ['electron/cli/worker.ts', 'the elevated entry itself'],
  ['electron/engine/api.ts', 'the contract: zod schemas of requests and events'],
  ['electron/engine/errors.ts', 'classified errors'],
  ['electron/engine/drives/reader.ts', 'the drive scanner reads each reader\'s identity (vendor, model, serial, port) from sysfs'],
  ['electron/engine/shared/pure.ts', 'the error causes and the URL check the schemas use; imports nothing'],
  ['electron/engine/job.ts', 'progress and phase events'],
  ['electron/engine/messages.ts', 'fills message templates with params (pure)'],
  ['electron/engine/messages-en.ts', 'the English message templates (data)'],
  ['electron/engine/ndjson.ts', 'bounded line framing of its own pipes'],
  ['electron/engine/tools.ts', 'runs lsblk, umount, udisksctl, eject with fixed arguments'],
  ['electron/engine/boards/model.ts', 'schema of a board (the contract refers to it); no board file is read'],
  ['electron/engine/disk/model.ts', 'schema of an inspection (the contract refers to it)'],
  ['electron/engine/check/model.ts', 'schema of a card check result (the contract refers to it)'],
  // A flash request may carry customisation settings: validating the request checks them as strings
  // (crypt hash format, SSH public key blobs, a 64-hex PSK). Nothing is read from a file or hashed.
  ['electron/engine/customise/model.ts', "schema of a request's customisation settings"],
  ['electron/engine/customise/crypt.ts', 'the crypt hash formats the settings schema accepts'],
  ['electron/engine/customise/ssh-keys.ts', 'the public key check the settings schema runs'],
  ['electron/engine/customise/wpa.ts', 'the PSK format the settings schema accepts'],
  ['electron/engine/customise/firstboot/summary-model.ts', 'schema of an inspection summary (the contract refers to it)'],
  ['electron/engine/sources/model.ts', 'schema of a catalog entry (the contract refers to it); no catalog is read'],
  ['electron/engine/drives/model.ts', 'schema of a drive'],
  ['electron/engine/drives/lsblk.ts', "parses lsblk's JSON (a system tool's output)"],
  ['electron/engine/drives/classify.ts', 'the safety rules'],
  ['electron/engine/drives/scan.ts', 'runs lsblk, reads sysfs, /proc/swaps, /proc/self/mountinfo'],
  ['electron/engine/drives/safety.ts', 'finds the drive by device number and applies the rules'],
  ['electron/engine/drives/identity.ts', 'device numbers from stat/fstat'],
  ['electron/engine/drives/unmount.ts', 'unmounts and ejects the card'],
  ['electron/engine/flash/device.ts', 'opens the card (O_EXCL, O_DIRECT) through the platform plan'],
  ['electron/engine/flash/platform/plan.ts', 'per-OS steps to release, open and eject a card (pure)'],
  ['electron/engine/flash/platform/win32-binding.ts', 'loads the Windows volume-lock addon, on Windows only'],
  ['electron/engine/drives/drivelist.ts', "maps drivelist's report of the drives (macOS, Windows)"],
  ['electron/engine/elevated/open-card.ts', 'check, unmount, open, fstat'],
  ['electron/engine/elevated/card-job.ts', 'starts the card job as the user and relays its events'],
  ['electron/engine/elevated/run-on-cards.ts', 'opens the cards, runs the card job, closes, ejects (the worker and the CLI under sudo)'],
  ['electron/engine/elevated/invoking-user.ts', 'who the job runs as (getent)'],
  ['electron/engine/elevated/policy.ts', 'which requests are served'],
  // Serving the card as raw bytes (Windows): only fixed 32-byte frame headers are parsed. The
  // client end (flash/remote-card.ts) runs unprivileged and must not appear here.
  ['electron/engine/elevated/card-frames.ts', 'the byte channel: fixed-size frame headers, checked against the opened card'],
  ['electron/engine/elevated/card-server.ts', 'serves reads and writes of the opened card on the byte channel'],
  ['electron/engine/elevated/byte-handover.ts', 'chooses fd or bytes when the worker starts; opens, serves, closes, ejects the card'],
  ['electron/engine/flash/aligned.ts', 'page-aligned transfer buffers for the served card'],
]);

it('the elevated part loads no parser of untrusted formats and no file writer', async () => {
  const result = await build({
    entryPoints: [join(root, 'electron/cli/worker.ts')],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const ours = inputs.filter((input) => !input.startsWith('node_modules/'));
  expect(ours.filter((input) => !ALLOWED.has(input))).toEqual([]);
  // Third-party code in the closure: zod (schemas), execa with its own dependencies, and drivelist
  // (the drive scanner on macOS and Windows). No archive or image decoder.
  const packages = new Set(inputs.filter((input) => input.startsWith('node_modules/')).map((input) => input.split('/').slice(1, input.split('/')[1]?.startsWith('@') ? 3 : 2).join('/')));
  for (const name of ['yauzl', 'xz-decompress']) expect(packages.has(name), name).toBe(false);
  expect(packages.has('zod')).toBe(true);
});
