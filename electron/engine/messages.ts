/**
 * Engine words as message keys. Each key has an English template (what the CLI and the logs
 * print); a front end with its own templates for the key (the app's de/fr) renders it in the
 * person's language from the same params. Pure and dependency-free: the renderer imports it.
 *
 * Template syntax, shared by every language:
 *   {name}         the param as is (a number is grouped in the reader's locale when one is given)
 *   {name:bytes}   a byte size ("15.9 GB" in the app; "<n> bytes" in English for the CLI)
 *   {name:one # range|other # ranges}   plural cases by Intl.PluralRules (zero, one, two, few,
 *                  many, other) or an exact value (=0, =writing: a word param picks its wording);
 *                  `#` is the value. No braces inside.
 */
import { ENGINE_MESSAGES } from './messages-en';

export { ENGINE_MESSAGES };
export type MessageKey = keyof typeof ENGINE_MESSAGES;

/** The param names a template uses, read at compile time: `{name}` and `{name:…}` alike. */
type NamesIn<T extends string> = T extends `${string}{${infer Inner}}${infer Rest}` ? (Inner extends `${infer Name}:${string}` ? Name : Inner) | NamesIn<Rest> : never;
export type ParamValue = string | number;
export type ParamsOf<K extends MessageKey> = { readonly [N in NamesIn<(typeof ENGINE_MESSAGES)[K]>]: ParamValue };
export type MessageParams = Readonly<Record<string, ParamValue>>;

/** A keyed message as it crosses process boundaries: a key and its params, nothing else. */
export interface KeyedText {
  readonly key: string;
  readonly params: MessageParams;
}
/** One the engine made, so its key is known. */
export interface Message extends KeyedText {
  readonly key: MessageKey;
}

export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(ENGINE_MESSAGES, key);
}

/** Params cross the worker boundary: a long string (a path list, a tool's stderr) is cut here. */
export const MAX_PARAMS = 16;
export const MAX_PARAM_LENGTH = 2048;

function bounded(params: MessageParams): MessageParams {
  const out: Record<string, ParamValue> = {};
  for (const [name, value] of Object.entries(params).slice(0, MAX_PARAMS)) {
    out[name] = typeof value === 'string' && value.length > MAX_PARAM_LENGTH ? `${value.slice(0, MAX_PARAM_LENGTH - 1)}…` : value;
  }
  return out;
}

/** A keyed message whose params the compiler checks against the English template. */
export function message<K extends MessageKey>(key: K, ...params: keyof ParamsOf<K> extends never ? [] : [ParamsOf<K>]): Message {
  return { key, params: bounded((params[0] ?? {}) as MessageParams) };
}

export interface RenderOptions {
  /** Locale for plural rules; also groups numbers and formats sizes when `numbers` is set. */
  readonly locale: string;
  readonly numbers?: boolean;
  readonly bytes?: (bytes: number) => string;
}

const PLACEHOLDER = /\{(\w+)(?::([^{}]*))?\}/g;

/** The names of the params a template uses, in order of first use (tests compare languages). */
export function paramNames(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ''))];
}

/** The case of a spec the value selects: an exact `=value` (a number or a word), else a number's plural category, else `other`. */
function choose(value: ParamValue, spec: string, options: RenderOptions, shown: string): string | null {
  const cases = new Map<string, string>();
  for (const part of spec.split('|')) {
    const space = part.indexOf(' ');
    cases.set(space < 0 ? part : part.slice(0, space), space < 0 ? '' : part.slice(space + 1));
  }
  const category = typeof value === 'number' ? cases.get(new Intl.PluralRules(options.locale).select(value)) : undefined;
  const chosen = cases.get(`=${value}`) ?? category ?? cases.get('other');
  return chosen === undefined ? null : chosen.replaceAll('#', shown);
}

/** Fills a template; a missing param stays as its placeholder so nothing is silently lost. */
export function renderTemplate(template: string, params: MessageParams, options: RenderOptions): string {
  const numbers = options.numbers ? new Intl.NumberFormat(options.locale) : null;
  return template.replace(PLACEHOLDER, (whole, name: string, spec: string | undefined) => {
    const value = params[name];
    if (value === undefined) return whole;
    const shown = typeof value === 'number' && numbers ? numbers.format(value) : String(value);
    if (spec === undefined) return shown;
    if (spec === 'bytes') return typeof value !== 'number' ? shown : options.bytes ? options.bytes(value) : `${value} bytes`;
    return choose(value, spec, options, shown) ?? whole;
  });
}

/** The English text of a keyed message (the CLI's words and the ErrorInfo `message`); an unknown key is shown as is. */
export function english(msg: KeyedText): string {
  return isMessageKey(msg.key) ? renderTemplate(ENGINE_MESSAGES[msg.key], msg.params, { locale: 'en' }) : msg.key;
}
