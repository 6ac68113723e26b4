/**
 * The engine's message keys and the app's templates for them: every key the engine can send has an
 * en, de and fr template using exactly the engine template's params, and the template syntax
 * (plurals by Intl.PluralRules, exact numbers, sizes, locale numbers) renders per language.
 */
import { describe, expect, it } from 'vitest';
import { classifyOsError } from '../../../electron/engine/errors';
import { ENGINE_MESSAGES, english, message, paramNames, renderTemplate, type MessageKey } from '../../../electron/engine/messages';
import { de } from '../../../renderer/src/i18n/de';
import { en } from '../../../renderer/src/i18n/en';
import { fr } from '../../../renderer/src/i18n/fr';
import { engineText } from '../../../renderer/src/i18n/translate';

const CATALOGUES = { en, de, fr } as const;
const KEYS = Object.keys(ENGINE_MESSAGES) as MessageKey[];
const sorted = (names: string[]): string[] => [...names].sort();

describe('engine message catalogue', () => {
  it.each(Object.keys(CATALOGUES) as (keyof typeof CATALOGUES)[])('%s has a template for every engine key, with the same params', (language) => {
    const catalogue: Readonly<Record<string, string>> = CATALOGUES[language];
    const problems: string[] = [];
    for (const key of KEYS) {
      const template = catalogue[`engine.${key}`];
      if (template === undefined) problems.push(`${key}: missing`);
      else if (sorted(paramNames(template)).join() !== sorted(paramNames(ENGINE_MESSAGES[key])).join()) {
        problems.push(`${key}: {${paramNames(template).join(', ')}} vs the engine's {${paramNames(ENGINE_MESSAGES[key]).join(', ')}}`);
      }
    }
    const stray = Object.keys(catalogue).filter((key) => key.startsWith('engine.') && !(key.slice('engine.'.length) in ENGINE_MESSAGES));
    expect(problems).toEqual([]);
    expect(stray).toEqual([]);
  });

  it('every template, English and the app’s, fills every placeholder (no brace is left over)', () => {
    const leftovers: string[] = [];
    for (const key of KEYS) {
      const params = Object.fromEntries(paramNames(ENGINE_MESSAGES[key]).map((name) => [name, 2]));
      if (/[{}]/.test(english({ key, params }))) leftovers.push(`${key} (engine)`);
      for (const language of ['en', 'de', 'fr'] as const) {
        const text = engineText(language, { key, params });
        if (text === null || /[{}]/.test(text)) leftovers.push(`${key} (${language}): ${text}`);
      }
    }
    expect(leftovers).toEqual([]);
  });

  it('renders plurals by each language’s rules, exact-number cases, sizes and grouped numbers', () => {
    const count = (n: number): string => renderTemplate('{n:=0 none|one # range|other # ranges}', { n }, { locale: 'en' });
    expect([0, 1, 2].map(count)).toEqual(['none', '1 range', '2 ranges']);
    // French counts 0 and 1 as singular, German only 1.
    expect(renderTemplate('{n:one # plage|other # plages}', { n: 0 }, { locale: 'fr' })).toBe('0 plage');
    expect(renderTemplate('{n:one # Bereich|other # Bereiche}', { n: 0 }, { locale: 'de' })).toBe('0 Bereiche');
    expect(renderTemplate('{n} / {s:bytes}', { n: 1048576, s: 2e9 }, { locale: 'de', numbers: true, bytes: (b) => `${b / 1e9} GB` })).toBe('1.048.576 / 2 GB');
    expect(renderTemplate('{s:bytes} at {where}', { s: 512 }, { locale: 'en' })).toBe('512 bytes at {where}');
  });

  it('gives the CLI the English template filled in, and the app the language’s', () => {
    const mismatch = message('flash.readbackMismatch', { device: '/dev/sdx', count: 3, bytes: 1_500_000, first: 4096 });
    expect(english(mismatch)).toBe('/dev/sdx does not read back what was written: 3 ranges differ (1500000 bytes), first at byte 4096');
    expect(engineText('de', mismatch)).toBe('/dev/sdx liest nicht zurück, was geschrieben wurde: 3 Bereiche weichen ab (1,5 MB), der erste bei Byte 4.096.');
    expect(engineText('fr', { key: 'flash.readbackMismatch', params: { device: '/dev/sdx', count: 1, bytes: 512, first: 0 } })).toMatch(/^\/dev\/sdx ne relit pas ce qui a été écrit : 1 plage diffère \(512 B\)/);
    expect(engineText('de', { key: 'no.such.key', params: {} })).toBeNull();
  });

  it('says an OS error in the language, the action as a word of that language', () => {
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const info = classifyOsError(denied, { kind: 'device', device: '/dev/sdx', action: 'writing' }).info;
    expect(info.message).toBe('No permission for writing /dev/sdx (EACCES)');
    const keyed = { key: info.key ?? '', params: info.params ?? {} };
    expect(engineText('de', keyed)).toBe('Keine Berechtigung, /dev/sdx zu beschreiben (EACCES).');
    expect(engineText('fr', keyed)).toBe('Pas l’autorisation d’écrire /dev/sdx (EACCES).');
    expect(engineText('de', { ...keyed, params: { ...keyed.params, action: 'flushing' } })).toBe('Keine Berechtigung, /dev/sdx zu leeren (EACCES).');
  });

  it('cuts a long param to a bounded length, so it can cross the worker pipe', () => {
    const long = message('unmount.failed', { mountPoint: '/m', device: '/dev/sdx', said: 'x'.repeat(10_000) });
    expect(String(long.params.said).length).toBeLessThanOrEqual(2048);
  });
});
