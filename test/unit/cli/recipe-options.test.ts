import { describe, expect, it } from 'vitest';
import { parseSize, recipeFrom } from '../../../electron/cli/build';
import { UsageError } from '../../../electron/cli/command';
import { RequestSchema } from '../../../electron/engine/api';

describe('recipe options shared by build and flash', () => {
  it('parses sizes, the table and the recipe fields', async () => {
    expect(parseSize('512M', 'card-size')).toBe(512 * 1024 ** 2);
    expect(parseSize('64G', 'card-size')).toBe(64 * 1024 ** 3);
    expect(() => parseSize('lots', 'card-size')).toThrow(UsageError);
    const recipe = await recipeFrom({ board: 'rock64', rootfs: 'r.tar', 'root-size': 'fill', table: 'gpt', 'loader-from': 'u.deb' });
    expect(recipe).toMatchObject({ board: 'rock64', rootfs: 'r.tar', rootSize: { mode: 'fill' }, table: 'gpt', loaderFrom: 'u.deb' });
    expect((await recipeFrom({ board: 'rock64', rootfs: 'r.tar' })).table).toBe('mbr');
    await expect(recipeFrom({ board: 'rock64', rootfs: 'r.tar', table: 'apm' })).rejects.toThrow(/--table/);
  });
});

describe('flash request: exactly one of source and build', () => {
  const build = { board: 'rock64', rootfs: 'r.tar' };
  it('accepts either, refuses both and neither', () => {
    expect(RequestSchema.safeParse({ op: 'flash', source: 'a.img', device: '/dev/sdz' }).success).toBe(true);
    const parsed = RequestSchema.parse({ op: 'flash', build, device: '/dev/sdz' });
    expect(parsed).toMatchObject({ op: 'flash', build: { rootSize: { mode: 'minimal' }, table: 'mbr' } });
    expect(RequestSchema.safeParse({ op: 'flash', source: 'a.img', build, device: '/dev/sdz' }).success).toBe(false);
    expect(RequestSchema.safeParse({ op: 'flash', device: '/dev/sdz' }).success).toBe(false);
  });
});
