/**
 * `inspect` given first-boot settings answers what a flash with them would write into the image's
 * boot FAT (the Review lists it): the whole edit is run, nothing is written, and a refusal comes
 * back as the reason instead of a file list.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { JobEvent, RequestInput, ResultOf } from '../../../electron/engine/api';
import { runRequest } from '../../../electron/engine/operations';
import { describeWith } from '../../helpers/needs';
import { EVERYTHING } from './settings-fixture';

const dir = mkdtempSync(join(tmpdir(), 'cardsmith-inspect-planned-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

/** A table-less 8 MiB FAT16 volume holding `files` (name → text), put there by mcopy. */
function fatWith(name: string, files: Record<string, string>): string {
  const image = join(dir, name);
  rmSync(image, { force: true });
  execFileSync('mkfs.fat', ['-F', '16', '-s', '1', '-C', image, '8192']);
  for (const [file, text] of Object.entries(files)) {
    const src = join(dir, 'src');
    writeFileSync(src, text);
    execFileSync('mcopy', ['-i', image, src, `::${file}`], { env });
  }
  return image;
}

async function planned(target: string, extra: Partial<Extract<RequestInput, { op: 'inspect' }>> = {}): Promise<ResultOf<'inspect'>['customisation']> {
  const events: JobEvent[] = [];
  const result = (await runRequest({ op: 'inspect', target, ...extra }, (e) => events.push(e))) as ResultOf<'inspect'> | undefined;
  const error = events.find((e) => e.type === 'error');
  if (error) throw new Error(JSON.stringify(error));
  return result?.customisation;
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describeWith(['tool:mkfs.fat', 'tool:mcopy'], 'inspect: what a flash with these settings would write', () => {
  it('names firstrun.sh and cmdline.txt for a Raspberry Pi OS–style boot FAT, and leaves the image as it was', async () => {
    const image = fatWith('raspios.img', { 'cmdline.txt': 'root=PARTUUID=1-02 rootwait\n', 'config.txt': '' });
    const before = sha(image);
    const summary = await planned(image, { customise: EVERYTHING });
    expect(summary?.planned).toEqual({ kind: 'systemd', reason: expect.stringMatching(/cmdline\.txt and config\.txt/), files: ['firstrun.sh', 'cmdline.txt'] });
    expect(sha(image)).toBe(before);
    // Without settings there is nothing planned: the answer is the plain summary.
    expect((await planned(image))?.planned).toBeUndefined();
  });

  it('names the cloud-init seeds, network-config only with Wi-Fi, and follows a given init_format', async () => {
    const image = fatWith('seeds.img', { 'user-data': '#cloud-config\n', 'meta-data': '' });
    expect((await planned(image, { customise: EVERYTHING }))?.planned?.files).toEqual(['user-data', 'network-config', 'meta-data']);
    expect((await planned(image, { customise: { hostname: 'lab' } }))?.planned).toMatchObject({ kind: 'cloudinit', files: ['user-data', 'meta-data'] });
    const raspios = fatWith('raspios-ci.img', { 'cmdline.txt': 'x\n', 'config.txt': '' });
    expect((await planned(raspios, { customise: { hostname: 'lab' }, initFormat: 'cloudinit-rpi' }))?.planned).toMatchObject({ kind: 'cloudinit-rpi', reason: 'the catalog says init_format cloudinit-rpi' });
  });

  it('gives the refusal’s reason instead of files: an unknown OS, an unknown init_format, a boot FAT without room', async () => {
    const other = fatWith('efi.img', { 'EFI.TXT': '' });
    expect((await planned(other, { customise: { hostname: 'lab' } }))?.planned).toEqual({ kind: null, reason: expect.stringMatching(/cannot tell how this image takes first-boot settings/), said: [{ key: 'firstboot.unknownImage', params: { offset: 0 } }, { key: 'armbian.why.noExt4', params: {} }], files: [] });
    const raspios = fatWith('raspios-2.img', { 'cmdline.txt': 'x\n', 'config.txt': '' });
    expect((await planned(raspios, { customise: { hostname: 'lab' }, initFormat: 'ignition' }))?.planned).toMatchObject({ kind: null, reason: expect.stringMatching(/"ignition"/) });
    // Filled to the last cluster: firstrun.sh cannot fit.
    const full = fatWith('full.img', { 'cmdline.txt': 'x\n', 'config.txt': '' });
    const free = Number(/([\d ]+) bytes free/.exec(execFileSync('mdir', ['-i', full, '::/'], { env }).toString())![1]!.replace(/ /g, ''));
    writeFileSync(join(dir, 'filler'), Buffer.alloc(free - 512, 1));
    execFileSync('mcopy', ['-i', full, join(dir, 'filler'), '::filler.bin'], { env });
    expect((await planned(full, { customise: EVERYTHING }))?.planned).toMatchObject({ kind: null, reason: expect.stringMatching(/bytes/), files: [] });
  });
});
