import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DownloadCache } from '../../../electron/engine/sources/cache';

const SHA = 'ab'.repeat(32);

describe('download cache: last-used updates', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cardsmith-cache-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('survives 50 parallel hits on one entry and leaves no temporary files', async () => {
    let clock = 1000;
    const cache = new DownloadCache({ root, now: () => ++clock });
    await cache.ensure();
    writeFileSync(join(root, 'objects', SHA), 'image bytes');
    writeFileSync(join(root, 'objects', `${SHA}.json`), JSON.stringify({ url: 'http://x/a.img', sizeBytes: 11, verified: true, lastUsed: 1 }));

    const hits = await Promise.all(Array.from({ length: 50 }, () => cache.get(SHA)));

    expect(hits.every((hit) => hit?.sha256 === SHA && hit.sizeBytes === 11)).toBe(true);
    expect(readdirSync(join(root, 'objects')).sort()).toEqual([SHA, `${SHA}.json`]);
    const meta = JSON.parse(readFileSync(join(root, 'objects', `${SHA}.json`), 'utf8')) as { lastUsed: number };
    expect(meta.lastUsed).toBeGreaterThan(1000);
  });
});
