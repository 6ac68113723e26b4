import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultPreset, loadPresets, removePreset, savePreset } from '../../../electron/engine/customise/presets';

const dir = mkdtempSync(join(tmpdir(), 'cardsmith-presets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HASH = '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';

describe('presets store', () => {
  it('is empty before anything is saved, keeps one default, and leaves no temporary files', async () => {
    const path = join(dir, 'a', 'presets.json');
    expect(await loadPresets(path)).toEqual([]);
    await savePreset({ name: 'lab', settings: { hostname: 'lab', user: { name: 'ada', passwordHash: HASH } }, default: true }, path);
    await savePreset({ name: 'home', settings: { hostname: 'home' } }, path);
    expect((await defaultPreset(path))?.name).toBe('lab');
    await savePreset({ name: 'home', settings: { hostname: 'home2' }, default: true }, path);
    const presets = await loadPresets(path);
    expect(presets.map((p) => [p.name, p.default ?? false])).toEqual([['lab', false], ['home', true]]);
    expect(presets[1]!.settings.hostname).toBe('home2');
    expect(readdirSync(join(dir, 'a'))).toEqual(['presets.json']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await removePreset('home', path);
    expect(await defaultPreset(path)).toBeNull();
  });

  it('saves concurrently without corrupting the file', async () => {
    const path = join(dir, 'b', 'presets.json');
    await savePreset({ name: 'first', settings: {} }, path);
    await Promise.all(Array.from({ length: 8 }, (_, i) => savePreset({ name: `p${i}`, settings: { hostname: `h${i}` } }, path)));
    const saved = JSON.parse(readFileSync(path, 'utf8')) as { presets: unknown[] };
    expect(saved.presets.length).toBeGreaterThanOrEqual(2);
    expect(readdirSync(join(dir, 'b'))).toEqual(['presets.json']);
  });

  it('refuses a presets file holding a plain password, naming the file and field', async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ version: 1, presets: [{ name: 'x', settings: { user: { name: 'ada', passwordHash: 'hunter2' } } }] }));
    await expect(loadPresets(path)).rejects.toThrow(/bad\.json: presets\.0\.settings\.user\.passwordHash: .*never the password itself/);
  });
});
