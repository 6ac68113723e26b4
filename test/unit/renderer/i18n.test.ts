// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { de } from '../../../renderer/src/i18n/de';
import { en } from '../../../renderer/src/i18n/en';
import { fr } from '../../../renderer/src/i18n/fr';
import { pluralKey, resolveLanguage, translate } from '../../../renderer/src/i18n/translate';

const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();

describe('translation layer', () => {
  it('takes the setting, else the first supported system language, else English', () => {
    expect(resolveLanguage('de', ['en-US'])).toBe('de');
    expect(resolveLanguage('auto', ['pt-PT', 'de-AT', 'en'])).toBe('de');
    expect(resolveLanguage('auto', ['fr-CA', 'en'])).toBe('fr');
    expect(resolveLanguage('auto', ['pt_BR'])).toBe('en');
    expect(resolveLanguage('auto', [])).toBe('en');
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(translate('en', 'step.of', { n: 2, total: 6 })).toBe('Step 2 of 6');
    expect(translate('de', 'step.of', { n: 2, total: 6 })).toBe('Schritt 2 von 6');
    expect(translate('en', 'board.none')).toBe('No board matches "{query}".');
  });

  it.each([
    ['German', de],
    ['French', fr],
  ])('%s has every English key, with the same placeholders, and none left empty', (_name, catalogue) => {
    expect(Object.keys(catalogue).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(en)) {
      const translated = catalogue[key as keyof typeof en];
      expect(translated.trim().length, key).toBeGreaterThan(0);
      expect(placeholders(translated), key).toEqual(placeholders(text));
    }
  });

  it('counts by each language’s plural rules: French says "0 plage", English "0 ranges"', () => {
    const ranges = (language: 'en' | 'fr', count: number): string => translate(language, pluralKey(language, count, 'verify.ranges.one', 'verify.ranges.other'), { count });
    expect([0, 1, 2].map((n) => ranges('en', n))).toEqual(['0 ranges', '1 range', '2 ranges']);
    expect([0, 1, 2].map((n) => ranges('fr', n))).toEqual(['0 plage', '1 plage', '2 plages']);
  });
});
