/**
 * The translation layer: a language is resolved from the setting or the system's preferred
 * languages, and `translate` fills {placeholders}. Unknown languages fall back to English.
 */
import { de } from './de';
import { en, type MessageKey } from './en';
import { fr } from './fr';
import type { LanguageSetting } from '../store/settings';

export type Language = 'en' | 'de' | 'fr';
export type { MessageKey };

const CATALOGUES: Readonly<Record<Language, Readonly<Record<MessageKey, string>>>> = { en, de, fr };
export const LANGUAGES: readonly Language[] = ['en', 'de', 'fr'];
export const LANGUAGE_NAMES: Readonly<Record<Language, string>> = { en: 'English', de: 'Deutsch', fr: 'Français' };

function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value);
}

/** The setting wins; "auto" takes the first system language we have ("de-AT" → de). */
export function resolveLanguage(setting: LanguageSetting, systemLanguages: readonly string[]): Language {
  if (setting !== 'auto') return setting;
  for (const tag of systemLanguages) {
    const primary = tag.toLowerCase().split(/[-_]/)[0] ?? '';
    if (isLanguage(primary)) return primary;
  }
  return 'en';
}

export type Params = Readonly<Record<string, string | number>>;

export function translate(language: Language, key: MessageKey, params: Params = {}): string {
  const template = CATALOGUES[language][key];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** Which of two message keys a count takes, by the language's plural rules (Intl.PluralRules). */
export function pluralKey(language: Language, count: number, one: MessageKey, other: MessageKey): MessageKey {
  return new Intl.PluralRules(language).select(count) === 'one' ? one : other;
}

export type Translator = (key: MessageKey, params?: Params) => string;
