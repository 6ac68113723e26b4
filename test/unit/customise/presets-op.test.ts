import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../../electron/engine/api';
import { runRequest } from '../../../electron/engine/operations';

const dir = mkdtempSync(join(tmpdir(), 'cardsmith-presets-op-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const settings = { cacheDir: dir };

describe('the presets operation', () => {
  it('lists, saves and removes presets in the cache folder the request names', async () => {
    expect(await runRequest<'presets'>({ op: 'presets', settings }, () => undefined)).toEqual({ presets: [] });
    await runRequest<'presets'>({ op: 'presets', save: { name: 'lab', settings: { hostname: 'lab' }, default: true }, settings }, () => undefined);
    const after = await runRequest<'presets'>({ op: 'presets', save: { name: 'home', settings: { hostname: 'home' } }, settings }, () => undefined);
    expect(after?.presets.map((p) => p.name)).toEqual(['lab', 'home']);
    expect(JSON.parse(readFileSync(join(dir, 'presets.json'), 'utf8')).presets).toHaveLength(2);
    expect(await runRequest<'presets'>({ op: 'presets', remove: 'lab', settings }, () => undefined)).toEqual({ presets: [{ name: 'home', settings: { hostname: 'home' } }] });
  });

  it('refuses a preset holding a plain password, naming the field', async () => {
    const events: JobEvent[] = [];
    const result = await runRequest<'presets'>({ op: 'presets', save: { name: 'x', settings: { user: { name: 'pi', passwordHash: 'raspberry' } } }, settings }, (e) => events.push(e));
    expect(result).toBeUndefined();
    const error = events.find((e) => e.type === 'error');
    expect(error?.type === 'error' && error.error.message).toMatch(/passwordHash|never the password itself/);
  });
});
