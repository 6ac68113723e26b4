/**
 * Downloaded-image customisation end to end: a Raspberry Pi OS–style image (MBR, FAT32 boot with
 * cmdline.txt and config.txt, ext4 root) flashed to a loop device with first-boot settings. The
 * card's boot FAT is judged by fsck.fat and mtools, the files by sh -n, shellcheck and cloud-init.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FIRSTRUN_HOOK } from '../../../electron/engine/customise/firstboot/firstrun';
import { readBytesAt } from '../../helpers/bytes';
import { withLoopDevice } from '../../helpers/loop';
import { describeWith } from '../../helpers/needs';
import { MTOOLS_ENV, RASPIOS, writeRaspiosImage, type BootEntry } from '../../helpers/raspios-image';
import { runCollecting } from '../../helpers/run-request';
import { EVERYTHING } from '../../unit/customise/settings-fixture';
import { startTestServer } from '../sources/test-server';

const MiB = 1 << 20;
const { bootStart: BOOT_START, bootSize: BOOT_SIZE, rootStart: ROOT_START, rootSize: ROOT_SIZE, cmdline: CMDLINE } = RASPIOS;
const env = MTOOLS_ENV;
let work = '';
const repo = resolve(__dirname, '../../..');
const cli = (args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [join(repo, 'bin/cardsmith.cjs'), ...args], { encoding: 'utf8', env: { ...process.env } });

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cardsmith-firstboot-flash-'));
  process.env.CARDSMITH_LOG_DIR = join(work, 'logs');
  process.env.CARDSMITH_CACHE = join(work, 'cache');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The image: MBR, FAT32 boot (cmdline.txt, config.txt, an overlay, optional filler) and an ext4 root. */
function raspiosImage(name: string, full = false): string {
  const boot: BootEntry[] = [
    ['cmdline.txt', `${CMDLINE}\n`],
    ['config.txt', '[all]\narm_64bit=1\ndtoverlay=vc4-kms-v3d\n'],
    ['overlays', null],
    ['overlays/vc4-kms-v3d.dtbo', Buffer.alloc(2000, 7)],
  ];
  // Full: 1 KiB left free, less than firstrun.sh needs.
  return writeRaspiosImage(join(work, name), boot, full ? 1024 : undefined);
}

/** The card's boot partition as a file, for fsck.fat and mtools. */
function bootOf(device: string, name: string): string {
  const path = join(work, name);
  writeFileSync(path, readBytesAt(device, BOOT_START, BOOT_SIZE));
  return path;
}

function fsckClean(volume: string): void {
  const run = spawnSync('fsck.fat', ['-n', volume]);
  const out = `${run.stdout}${run.stderr}`;
  expect(out.split('\n').filter((l) => l && !/^(fsck\.fat \d|Checking |.*: \d+ files, )/.test(l))).toEqual([]);
  expect(run.status).toBe(0);
}

const mtype = (volume: string, path: string): string => execFileSync('mcopy', ['-i', volume, '-n', `::${path}`, '-'], { env }).toString();
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describeWith(
  ['root', 'tool:losetup', 'tool:sfdisk', 'tool:mkfs.fat', 'tool:mkfs.ext4', 'tool:fsck.fat', 'tool:mcopy', 'tool:mmd', 'tool:shellcheck', 'tool:cloud-init', 'tool:xz', 'tool:openssl'],
  'flash a downloaded-style image with first-boot settings',
  () => {
    it('init_format systemd: firstrun.sh and the cmdline.txt hook on the card; fsck.fat clean, sh -n + shellcheck pass, verified', async () => {
      const image = raspiosImage('raspios.img');
      await withLoopDevice({ sizeBytes: 128 * MiB }, async (loop) => {
        const { result, error } = await runCollecting({ op: 'flash', source: image, device: loop.device, allowLoop: true, customise: EVERYTHING, initFormat: 'systemd' });
        expect(error).toBeUndefined();
        expect(result).toMatchObject({ verified: true });
        const boot = bootOf(loop.device, 'systemd.boot');
        fsckClean(boot);
        expect(mtype(boot, 'cmdline.txt')).toBe(`${CMDLINE}${FIRSTRUN_HOOK}\n`);
        expect(mtype(boot, 'config.txt')).toBe('[all]\narm_64bit=1\ndtoverlay=vc4-kms-v3d\n');
        expect(mtype(boot, 'overlays/vc4-kms-v3d.dtbo')).toBe(Buffer.alloc(2000, 7).toString());
        const script = join(work, 'firstrun.sh');
        writeFileSync(script, mtype(boot, 'firstrun.sh'));
        expect(readFileSync(script, 'utf8')).toContain("set_hostname 'lab-pi-7'");
        expect(spawnSync('sh', ['-n', script]).status).toBe(0);
        const check = spawnSync('shellcheck', ['-s', 'sh', script]);
        expect(check.stdout.toString()).toBe('');
        // The root partition is the image's, byte for byte.
        expect(readBytesAt(loop.device, ROOT_START, ROOT_SIZE).equals(readBytesAt(image, ROOT_START, ROOT_SIZE))).toBe(true);
      });
    });

    it('init_format cloudinit-rpi, from an xz stream (checked ahead by decoding its boot FAT): user-data passes cloud-init schema, meta-data and network-config read back; verified', async () => {
      const image = raspiosImage('raspios-ci.img');
      execFileSync('xz', ['-T1', '-1', '-k', '-f', image]);
      await withLoopDevice({ sizeBytes: 128 * MiB }, async (loop) => {
        const { result, error, events } = await runCollecting({ op: 'flash', source: `${image}.xz`, device: loop.device, allowLoop: true, customise: EVERYTHING, initFormat: 'cloudinit-rpi' });
        expect(error).toBeUndefined();
        expect(events).toContainEqual(expect.objectContaining({ type: 'log', message: expect.stringMatching(/first-boot files checked against the image: cloudinit-rpi/) }));
        expect(result).toMatchObject({ verified: true });
        const boot = bootOf(loop.device, 'ci.boot');
        fsckClean(boot);
        const userData = join(work, 'user-data');
        writeFileSync(userData, mtype(boot, 'user-data'));
        const schema = spawnSync('cloud-init', ['schema', '--config-file', userData]);
        expect(`${schema.stdout}${schema.stderr}`).toMatch(/Valid cloud-config/);
        expect(mtype(boot, 'meta-data')).toMatch(/^instance-id: "cardsmith-[0-9a-z]+-[0-9a-f]+"\nlocal-hostname: "lab-pi-7"\n$/);
        expect(mtype(boot, 'network-config')).toContain(`password: "${EVERYTHING.wifi!.psk}"`);
        expect(mtype(boot, 'cmdline.txt')).toBe(`${CMDLINE}\n`);
      });
    });

    it('without catalog metadata the image tells: cmdline.txt + config.txt means systemd', async () => {
      const image = raspiosImage('raspios-plain.img');
      await withLoopDevice({ sizeBytes: 128 * MiB }, async (loop) => {
        const { error, events } = await runCollecting({ op: 'flash', source: image, device: loop.device, allowLoop: true, customise: { hostname: 'pi' } });
        expect(error).toBeUndefined();
        expect(events).toContainEqual(expect.objectContaining({ type: 'log', message: expect.stringMatching(/first-boot: systemd \(the boot partition .* cmdline\.txt and config\.txt/) }));
        expect(mtype(bootOf(loop.device, 'plain.boot'), 'cmdline.txt')).toBe(`${CMDLINE}${FIRSTRUN_HOOK}\n`);
      });
    });

    it('the CLI: flags on a plain-image flash hash the secrets; inspect shows what the card carries without them', async () => {
      const image = raspiosImage('raspios-cli.img');
      const password = 'correct horse battery';
      const passphrase = 'lab wifi passphrase';
      writeFileSync(join(work, 'pw'), `${password}\n`);
      writeFileSync(join(work, 'psk'), `${passphrase}\n`);
      writeFileSync(join(work, 'key.pub'), `${EVERYTHING.ssh!.authorizedKeys![0]}\n`);
      await withLoopDevice({ sizeBytes: 128 * MiB }, async (loop) => {
        const flags = ['--hostname', 'lab-3', '--user', 'ada', '--password-file', join(work, 'pw'), '--sudo', '--ssh-key', join(work, 'key.pub'), '--ssh-password-login', 'off'];
        const wifi = ['--wifi-ssid', 'Lab net', '--wifi-psk-file', join(work, 'psk'), '--wifi-country', 'DE', '--timezone', 'Europe/Berlin'];
        const flashed = cli(['flash', image, '--device', loop.device, '--allow-loop', '--yes', ...flags, ...wifi, '--init-format', 'cloudinit']);
        expect(flashed.status, String(flashed.stderr)).toBe(0);
        const logFile = /log (\S+\.log)/.exec(String(flashed.stderr))![1]!;
        const boot = bootOf(loop.device, 'cli.boot');
        fsckClean(boot);
        const userData = mtype(boot, 'user-data');
        const hash = JSON.parse(/passwd: (".*")/.exec(userData)![1]!) as string;
        const salt = hash.split('$')[2]!;
        // An independent sha512-crypt: the hash on the card is of the password in the file.
        expect(execFileSync('openssl', ['passwd', '-6', '-salt', salt, password]).toString().trim()).toBe(hash);
        // Neither the progress output nor the job log carries a secret.
        for (const text of [String(flashed.stderr), String(flashed.stdout), readFileSync(logFile, 'utf8')]) {
          expect(text).not.toContain(hash);
          expect(text).not.toContain(password);
          expect(text).not.toContain(passphrase);
        }
        const inspected = cli(['inspect', '--json', loop.device]);
        expect(inspected.status).toBe(0);
        const out = String(inspected.stdout);
        expect(out).not.toContain(hash);
        expect(out).not.toContain(passphrase);
        expect(out).not.toMatch(/[0-9a-f]{64}/);
        const result = JSON.parse(out.trim().split('\n').pop()!) as { result?: { customisation?: unknown }; customisation?: unknown };
        expect(result.result?.customisation ?? result.customisation).toMatchObject({
          bootPartitionOffset: BOOT_START,
          firstBootFiles: ['user-data', 'network-config', 'meta-data'],
          cmdlineHook: false,
          hostname: 'lab-3',
          users: ['ada'],
          sshKeys: 1,
          wifiNetworks: ['Lab net'],
          timezone: 'Europe/Berlin',
        });
        const human = String(cli(['inspect', loop.device]).stdout);
        expect(human).toMatch(/first boot: user-data, network-config, meta-data; hostname lab-3; users ada; 1 SSH key; Wi-Fi "Lab net"; time zone Europe\/Berlin/);
      });
    });

    it('inspect reads an Imager-style firstrun.sh back: host, user, key, network, time zone and the hook', async () => {
      const image = raspiosImage('raspios-inspect.img');
      await withLoopDevice({ sizeBytes: 128 * MiB }, async (loop) => {
        const { error } = await runCollecting({ op: 'flash', source: image, device: loop.device, allowLoop: true, customise: EVERYTHING, initFormat: 'systemd' });
        expect(error).toBeUndefined();
        const human = String(cli(['inspect', loop.device]).stdout);
        expect(human).toContain(`first boot: firstrun.sh (run from cmdline.txt); hostname lab-pi-7; users ada; 1 SSH key; Wi-Fi ${JSON.stringify(EVERYTHING.wifi!.ssid)}; time zone Europe/London`);
        expect(human).not.toContain(EVERYTHING.user!.passwordHash!);
      });
    });

    it("a catalog id over HTTP: the os_list entry's init_format picks cloud-init, the FAT is edited on the card after the stream", async () => {
      const image = readFileSync(raspiosImage('served.img'));
      const server = await startTestServer();
      process.env.CARDSMITH_PUBLIC_CATALOGS = '0';
      process.env.CARDSMITH_CATALOGS = `${server.base}/os_list.json`;
      try {
        const url = server.add('/raspios-served.img', image);
        const item = { name: 'Served OS', url, devices: ['pi4-64bit'], init_format: 'cloudinit-rpi', image_download_sha256: createHash('sha256').update(image).digest('hex') };
        server.add('/os_list.json', JSON.stringify({ os_list: [item] }));
        const catalog = (await runCollecting({ op: 'catalog' })).result as { entries: { id: string; name: string; initFormat?: string }[] };
        const entry = catalog.entries.find((e) => e.name === 'Served OS')!;
        expect(entry.initFormat).toBe('cloudinit-rpi');
        await withLoopDevice({ sizeBytes: 128 * MiB }, async (loop) => {
          const { result, error, events } = await runCollecting({ op: 'flash', source: entry.id, device: loop.device, allowLoop: true, customise: { hostname: 'served' } });
          expect(error).toBeUndefined();
          expect(result).toMatchObject({ verified: true });
          expect(events).toContainEqual(expect.objectContaining({ type: 'log', message: expect.stringMatching(/first-boot: cloudinit-rpi \(the catalog says init_format cloudinit-rpi\)/) }));
          const boot = bootOf(loop.device, 'served.boot');
          fsckClean(boot);
          expect(mtype(boot, 'user-data')).toContain('hostname: "served"');
        });
      } finally {
        delete process.env.CARDSMITH_CATALOGS;
        delete process.env.CARDSMITH_PUBLIC_CATALOGS;
        await server.close();
      }
    });

    it('bad input is refused before anything is written: a full boot FAT, an unknown init_format, an invalid host name', async () => {
      const full = raspiosImage('full.img', true);
      const image = raspiosImage('ok.img');
      await withLoopDevice({ sizeBytes: 128 * MiB }, async (loop) => {
        writeFileSync(loop.device, Buffer.alloc(2 * MiB, 0xab));
        const before = sha(loop.device);
        const noRoom = await runCollecting({ op: 'flash', source: full, device: loop.device, allowLoop: true, customise: EVERYTHING, initFormat: 'systemd' });
        expect(noRoom.error?.cause).toBe('too-small');
        expect(noRoom.error?.message).toMatch(/FAT volume at byte 4194304 has no room: \d+ bytes needed, \d+ free/);
        // The same from an xz stream: the boot FAT is decoded ahead of writing, so the card stays untouched.
        execFileSync('xz', ['-T1', '-0', '-k', '-f', full]);
        const noRoomXz = await runCollecting({ op: 'flash', source: `${full}.xz`, device: loop.device, allowLoop: true, customise: EVERYTHING, initFormat: 'systemd' });
        expect(noRoomXz.error?.message).toMatch(/FAT volume at byte 4194304 has no room/);
        expect(sha(loop.device)).toBe(before);
        const unknown = await runCollecting({ op: 'flash', source: image, device: loop.device, allowLoop: true, customise: EVERYTHING, initFormat: 'ignition' });
        expect(unknown.error?.message).toMatch(/"ignition", which Cardsmith does not know/);
        const badName = await runCollecting({ op: 'flash', source: image, device: loop.device, allowLoop: true, customise: { hostname: 'bad_host!' } });
        expect(badName.error?.cause).toBe('bad-input');
        expect(badName.error?.message).toMatch(/host name/);
        expect(sha(loop.device)).toBe(before);
      });
    });
  },
);
