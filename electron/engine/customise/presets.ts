/**
 * Saved customisation presets: `presets.json` in the cache folder, read and written whole. Only
 * hashes are stored (the schema refuses a plain password or passphrase). Writes go to a unique
 * temporary name beside the file and are renamed over it, so two windows saving at once never
 * leave a half-written file, and a reader sees the old or the new list.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CardsmithError } from '../errors';
import { message } from '../messages';
import { defaultCacheRoot } from '../sources/cache';
import { PresetsFileSchema, type Preset } from './model';

export const presetsPath = (): string => join(defaultCacheRoot(), 'presets.json');

export async function loadPresets(path = presetsPath()): Promise<Preset[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw CardsmithError.keyed('bad-input', 'presets.notJson', { path, reason: (error as Error).message }, { path });
  }
  const parsed = PresetsFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw CardsmithError.keyed('bad-input', 'presets.invalid', { path, field: issue.path.join('.') || '(root)', reason: issue.message }, { path }, { hint: message('presets.invalidHint') });
  }
  return parsed.data.presets;
}

async function store(presets: Preset[], path: string): Promise<void> {
  const body = `${JSON.stringify(PresetsFileSchema.parse({ version: 1, presets }), null, 2)}\n`;
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, body, { mode: 0o600 });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Adds or replaces the preset of that name; a new default takes the mark from the old one. */
export async function savePreset(preset: Preset, path = presetsPath()): Promise<Preset[]> {
  const others = (await loadPresets(path)).filter((p) => p.name !== preset.name);
  const presets = [...(preset.default ? others.map(({ default: _, ...p }) => p) : others), preset];
  await store(presets, path);
  return presets;
}

export async function removePreset(name: string, path = presetsPath()): Promise<Preset[]> {
  const presets = (await loadPresets(path)).filter((p) => p.name !== name);
  await store(presets, path);
  return presets;
}

/** The preset called `name`, or a bad-input error listing the saved names. */
export async function findPreset(name: string, path = presetsPath()): Promise<Preset> {
  const presets = await loadPresets(path);
  const found = presets.find((p) => p.name === name);
  if (!found) {
    const details = { preset: name, path };
    throw presets.length > 0 ? CardsmithError.keyed('bad-input', 'presets.unknown', { name, saved: presets.map((p) => p.name).join(', ') }, details) : CardsmithError.keyed('bad-input', 'presets.noneSaved', { name }, details);
  }
  return found;
}

/** The preset marked default, which the GUI offers once per flash. */
export async function defaultPreset(path = presetsPath()): Promise<Preset | null> {
  return (await loadPresets(path)).find((p) => p.default) ?? null;
}
