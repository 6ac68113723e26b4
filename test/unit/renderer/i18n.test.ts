// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { de } from '../../../renderer/src/i18n/de';
import { en } from '../../../renderer/src/i18n/en';
import { resolveLanguage, translate } from '../../../renderer/src/i18n/translate';

const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();

describe('translation layer', () => {
  it('takes the setting, else the first supported system language, else English', () => {
    expect(resolveLanguage('de', ['en-US'])).toBe('de');
    expect(resolveLanguage('auto', ['fr-FR', 'de-AT', 'en'])).toBe('de');
    expect(resolveLanguage('auto', ['pt_BR'])).toBe('en');
    expect(resolveLanguage('auto', [])).toBe('en');
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(translate('en', 'step.of', { n: 2, total: 6 })).toBe('Step 2 of 6');
    expect(translate('de', 'step.of', { n: 2, total: 6 })).toBe('Schritt 2 von 6');
    expect(translate('en', 'board.none')).toBe('No board matches "{query}".');
  });

  it('German has every English key, with the same placeholders, and none left empty', () => {
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(en)) {
      const german = de[key as keyof typeof en];
      expect(german.trim().length, key).toBeGreaterThan(0);
      expect(placeholders(german), key).toEqual(placeholders(text));
    }
  });
});
