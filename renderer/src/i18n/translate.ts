/**
 * The translation layer: a language is resolved from the setting or the system's preferred
 * languages, and `translate` fills {placeholders}. Unknown languages fall back to English.
 */
import { de } from './de';
import { en, type MessageKey } from './en';
import { fr } from './fr';
import type { LanguageSetting } from '../store/settings';
import type { ErrorCause, ErrorInfo } from '../../../electron/engine/errors';
import { renderTemplate, type KeyedText } from '../../../electron/engine/messages';
import { formatBytes } from '../view/format';

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
  return renderTemplate(CATALOGUES[language][key], params, { locale: language });
}

/**
 * An engine message (an error, hint, note, phase detail or drive reason sent as a key) in the
 * language, numbers grouped and sizes formatted its way; null when this build has no template
 * for the key (a newer engine), so the caller shows the English beside a translated headline.
 */
export function engineText(language: Language, keyed: KeyedText): string | null {
  const key = `engine.${keyed.key}`;
  if (!Object.hasOwn(CATALOGUES[language], key)) return null;
  const template = CATALOGUES[language][key as MessageKey];
  return renderTemplate(template, keyed.params, { locale: language, numbers: true, bytes: (bytes) => formatBytes(bytes, language) });
}

/** Which of two message keys a count takes, by the language's plural rules (Intl.PluralRules). */
export function pluralKey(language: Language, count: number, one: MessageKey, other: MessageKey): MessageKey {
  return new Intl.PluralRules(language).select(count) === 'one' ? one : other;
}

/**
 * A keyed message the app shows: an engine key, or one of the app's own keys (an error the
 * renderer made); null when neither catalogue knows it.
 */
export function keyedText(language: Language, keyed: KeyedText): string | null {
  const engine = engineText(language, keyed);
  if (engine !== null) return engine;
  return Object.hasOwn(CATALOGUES[language], keyed.key) ? translate(language, keyed.key as MessageKey, keyed.params) : null;
}

export type Translator = (key: MessageKey, params?: Params) => string;

/** An error the app itself makes: keyed with the app's own catalogue (the panel shows it in the UI language), English for the log. */
export function appError(cause: ErrorCause, key: MessageKey, hintKey?: MessageKey): ErrorInfo {
  const hint = hintKey === undefined ? {} : { hint: translate('en', hintKey), hintKey, hintParams: {} };
  return { cause, message: translate('en', key), key, params: {}, ...hint };
}
