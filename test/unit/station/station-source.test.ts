/**
 * The station's source, resolved by the engine's `fetch` (the CLI station and the app's Station
 * both ask it): a local image by absolute path is hashed where it is, with progress, not copied;
 * a missing file or a folder is a bad-input error naming the path.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../../electron/engine/api';
import { runRequest } from '../../../electron/engine/operations';

const dir = mkdtempSync(join(tmpdir(), 'cardsmith-station-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fetch on a local image', () => {
  it('gives the file itself, its sha256 and size, and reports hashing progress', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const path = join(dir, 'card.img');
    writeFileSync(path, bytes);
    const events: JobEvent[] = [];
    const result = await runRequest<'fetch'>({ op: 'fetch', source: path, settings: { cacheDir: join(dir, 'cache') } }, (e) => events.push(e));
    expect(result).toEqual({ path, sha256: createHash('sha256').update(bytes).digest('hex'), sizeBytes: bytes.length });
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.at(-1)).toMatchObject({ phase: 'fetch', bytesDone: bytes.length, bytesTotal: bytes.length });
  });

  it('names a missing file or a folder as bad input', async () => {
    for (const path of [join(dir, 'missing.img'), dir]) {
      const events: JobEvent[] = [];
      expect(await runRequest<'fetch'>({ op: 'fetch', source: path }, (e) => events.push(e))).toBeUndefined();
      expect(events.at(-1)).toMatchObject({ type: 'error', error: { cause: 'bad-input', message: `There is no image file at ${path}` } });
    }
  });
});
