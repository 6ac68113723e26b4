// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, parseSettings, serializeSettings } from '../../../renderer/src/store/settings';

describe('settings', () => {
  it('round-trips through its stored form', () => {
    const custom = { ...DEFAULT_SETTINGS, theme: 'dark' as const, language: 'fr' as const, verify: false, cacheFolder: '/c', catalogUrls: ['https://c/x.json'] };
    expect(parseSettings(serializeSettings(custom))).toEqual(custom);
  });

  it('falls back field by field on missing, damaged or foreign values', () => {
    expect(parseSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings('{not json')).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings(JSON.stringify({ theme: 'neon', language: 'pt', verify: 'yes', cacheLimitGiB: -3, catalogUrls: ['a', 3], eject: false }))).toEqual({
      ...DEFAULT_SETTINGS,
      catalogUrls: ['a'],
      eject: false,
    });
  });
});
