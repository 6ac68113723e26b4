/**
 * Every bmap format version is read by its own checksum rules, with bmaptool as the oracle: a map
 * of a real image from `bmaptool create` (2.0) is rewritten into the 1.4, 1.3 and 1.2 layouts the
 * way bmaptool's history defines them, and `bmaptool copy` must accept or refuse what we accept or
 * refuse. Clear-signed maps are made with a throwaway gpg key and unwrapped like `gpg --decrypt`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../../electron/engine/api';
import { CardsmithError } from '../../../electron/engine/errors';
import { openImageInput } from '../../../electron/engine/flash/image-input';
import { createJobContext } from '../../../electron/engine/job';
import { clearSignedText, parseBmap, rangeBytes, type Bmap } from '../../../electron/engine/sources/bmap';
import { asVersion, hashHex, reseal, VERSIONS } from '../../helpers/bmap-layouts';
import { describeWith } from '../../helpers/needs';

/** One hex digit of the first range checksum changed, the file checksum left as it was. */
function editFirstRangeChecksum(xml: string): string {
  return xml.replace(/(chksum|sha1)="([0-9a-f])/, (_all, name: string, digit: string) => `${name}="${digit === '0' ? '1' : '0'}`);
}

function parseError(text: string): CardsmithError {
  try {
    parseBmap(text);
  } catch (error) {
    if (error instanceof CardsmithError) return error;
    throw error;
  }
  throw new Error('the bmap was accepted');
}

describeWith(['tool:bmaptool', 'tool:gpg', 'tool:truncate'], 'bmap format versions against bmaptool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-bmapver-'));
  const imagePath = join(dir, 'disk.img');
  let image: Buffer;
  let xml20: string;

  /** Runs `bmaptool copy` of the image to a file with `bmapText`; true when it succeeded. */
  function bmaptoolAccepts(bmapText: string, name: string): boolean {
    const bmapPath = join(dir, `${name}.bmap`);
    writeFileSync(bmapPath, bmapText);
    const copy = spawnSync('bmaptool', ['copy', '--bmap', bmapPath, imagePath, join(dir, `${name}.out`)], { encoding: 'utf8' });
    return copy.status === 0;
  }

  beforeAll(() => {
    // Data, a hole of 1 MiB, data: two mapped ranges.
    writeFileSync(imagePath, randomBytes(300_000));
    execFileSync('truncate', ['-s', String(300_000 + (1 << 20)), imagePath]);
    writeFileSync(imagePath, randomBytes(50_000), { flag: 'a' });
    image = readFileSync(imagePath);
    xml20 = execFileSync('bmaptool', ['create', imagePath], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(VERSIONS)('reads a %s map by its rules: type, range checksums matching the image, and bmaptool copies with it', (version) => {
    const text = asVersion(xml20, version, image);
    const bmap = parseBmap(text);
    const type = version === '1.3' || version === '1.2' ? 'sha1' : 'sha256';
    expect(bmap).toMatchObject({ version, checksumType: type, imageSize: image.length, signed: false });
    expect(bmap.ranges).toHaveLength(2);
    for (const range of bmap.ranges) {
      const { start, end } = rangeBytes(bmap, range);
      expect(range.checksum).toBe(hashHex(type, image.subarray(start, end)));
    }
    expect(bmaptoolAccepts(text, `ok-${version}`)).toBe(true);
  });

  it.each(['2.0', '1.4', '1.3'] as const)('refuses a %s map whose ranges were edited (its file checksum), as bmaptool does', (version) => {
    const edited = editFirstRangeChecksum(asVersion(xml20, version, image));
    const error = parseError(edited);
    expect(error.info.cause).toBe('source-corrupt');
    expect(error.message).toMatch(new RegExp(`own ${version === '1.3' ? 'sha1' : 'sha256'} is [0-9a-f]+ but its <BmapFile(SHA1|Checksum)> says`));
    expect(bmaptoolAccepts(edited, `edited-${version}`)).toBe(false);
  });

  it('refuses a 1.3 or 1.4 map without the file checksum its version carries', () => {
    expect(parseError(asVersion(xml20, '1.3', image).replace(/\s*<BmapFileSHA1>[^<]*<\/BmapFileSHA1>/, '')).message).toMatch(/<BmapFileSHA1>.*missing/);
    expect(parseError(asVersion(xml20, '1.4', image).replace(/\s*<ChecksumType>[^<]*<\/ChecksumType>/, '')).message).toMatch(/<ChecksumType>/);
  });

  it.each(VERSIONS)('a %s map with a wrong range checksum fails the read of that range (bmaptool refuses it from 1.3 on)', async (version) => {
    let text = editFirstRangeChecksum(asVersion(xml20, version, image));
    if (version === '1.3') text = reseal(text, 'BmapFileSHA1', 'sha1');
    else if (version !== '1.2') text = reseal(text, 'BmapFileChecksum', 'sha256');
    // bmaptool 3.6 ignores range checksums in 1.0–1.2 maps; Cardsmith checks them.
    expect(bmaptoolAccepts(text, `range-${version}`)).toBe(version === '1.2');
    const folder = join(dir, `range-${version}`);
    mkdirSync(folder);
    writeFileSync(join(folder, 'disk.img'), image);
    writeFileSync(join(folder, 'disk.img.bmap'), text);
    const input = await openImageInput(join(folder, 'disk.img'), createJobContext(() => undefined, new AbortController().signal));
    try {
      await expect(input.read(new Uint8Array(image.length))).rejects.toThrow(/block map range 1 \(bytes 0\.\.\d+\) has checksum/);
    } finally {
      await input.close();
    }
  });

  describe('clear-signed', () => {
    let signed: string;
    let gpgText: string;
    beforeAll(() => {
      const home = join(dir, 'gnupg');
      mkdirSync(home, { mode: 0o700 });
      const env = { ...process.env, GNUPGHOME: home };
      execFileSync('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'Cardsmith test <test@example.invalid>', 'default', 'default', 'never'], { env, stdio: 'ignore' });
      // A line starting with "-" makes gpg dash-escape it; the map is resealed with it in.
      const withDash = reseal(xml20.replace('<bmap version="2.0">', '<bmap version="2.0">\n- a line gpg must dash-escape'), 'BmapFileChecksum', 'sha256');
      writeFileSync(join(dir, 'plain.bmap'), withDash);
      execFileSync('gpg', ['--batch', '--yes', '--clearsign', '-o', join(dir, 'signed.bmap'), join(dir, 'plain.bmap')], { env, stdio: 'ignore' });
      signed = readFileSync(join(dir, 'signed.bmap'), 'utf8');
      gpgText = execFileSync('gpg', ['--batch', '--decrypt', join(dir, 'signed.bmap')], { env, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    });

    it('unwraps a clear-signed map exactly as gpg prints its signed text, and reads it as signed', () => {
      expect(signed).toMatch(/^-----BEGIN PGP SIGNED MESSAGE-----\n[\s\S]*\n- - a line gpg must dash-escape\n/);
      expect(clearSignedText(signed)).toBe(gpgText);
      const bmap: Bmap = parseBmap(signed);
      expect(bmap).toMatchObject({ version: '2.0', signed: true, checksumType: 'sha256' });
      expect(bmap.ranges).toEqual(parseBmap(xml20).ranges);
    });

    it('an image with a clear-signed sidecar map opens with it, and the job log says the signature was not verified', async () => {
      const folder = join(dir, 'signed-sidecar');
      mkdirSync(folder);
      writeFileSync(join(folder, 'disk.img'), image);
      writeFileSync(join(folder, 'disk.img.bmap'), signed);
      const events: JobEvent[] = [];
      const input = await openImageInput(join(folder, 'disk.img'), createJobContext((event) => events.push(event), new AbortController().signal));
      await input.close();
      expect(input.bmap?.signed).toBe(true);
      const logs = events.flatMap((event) => (event.type === 'log' ? [event.message] : []));
      expect(logs).toContainEqual(expect.stringMatching(/disk\.img\.bmap is clear-signed; its OpenPGP signature is not verified/));
    });

    it('still checks the file checksum inside the signed message', () => {
      expect(parseBmap(signed).signed).toBe(true);
      const error = parseError(editFirstRangeChecksum(signed));
      expect(error.message).toMatch(/edited or damaged/);
    });
  });
});
