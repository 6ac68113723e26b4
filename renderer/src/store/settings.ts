/**
 * User settings: look, language, what a flash does after writing, where downloads are cached.
 * Persisted as JSON in localStorage; parsing is forgiving so an old or damaged entry falls back to
 * defaults field by field instead of losing everything.
 */
import type { SourceSettings } from '../../../electron/engine/api';
import { isAbsolutePath as isAbsoluteFolder, isHttpUrl } from '../../../electron/engine/shared/pure';

export type Theme = 'system' | 'light' | 'dark';
export type LanguageSetting = 'auto' | 'en' | 'de' | 'fr';

export interface Settings {
  readonly theme: Theme;
  readonly language: LanguageSetting;
  readonly verify: boolean;
  readonly eject: boolean;
  /** Folder for downloads and built images; empty means "next to the source". */
  readonly cacheFolder: string;
  readonly cacheLimitGiB: number;
  readonly catalogUrls: readonly string[];
}

export const DEFAULT_SETTINGS: Settings = {
  theme: 'system',
  language: 'auto',
  verify: true,
  eject: true,
  cacheFolder: '',
  cacheLimitGiB: 8,
  catalogUrls: [],
};

export const SETTINGS_KEY = 'cardsmith.settings.v1';

function pickEnum<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return allowed.find((candidate) => candidate === value) ?? fallback;
}

export function parseSettings(text: string | null): Settings {
  let raw: unknown;
  try {
    raw = text ? JSON.parse(text) : {};
  } catch {
    raw = {};
  }
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const d = DEFAULT_SETTINGS;
  return {
    theme: pickEnum(r.theme, ['system', 'light', 'dark'], d.theme),
    language: pickEnum(r.language, ['auto', 'en', 'de', 'fr'], d.language),
    verify: typeof r.verify === 'boolean' ? r.verify : d.verify,
    eject: typeof r.eject === 'boolean' ? r.eject : d.eject,
    cacheFolder: typeof r.cacheFolder === 'string' ? r.cacheFolder : d.cacheFolder,
    cacheLimitGiB:
      typeof r.cacheLimitGiB === 'number' && Number.isFinite(r.cacheLimitGiB) && r.cacheLimitGiB > 0 ? r.cacheLimitGiB : d.cacheLimitGiB,
    catalogUrls: Array.isArray(r.catalogUrls) ? r.catalogUrls.filter((u): u is string => typeof u === 'string') : d.catalogUrls,
  };
}

const GiB = 1024 ** 3;

/** The engine's own checks, which the Settings and Verify pages also apply as the person types. */
export { isAbsoluteFolder, isHttpUrl };

/**
 * What the engine is told of these settings with each job that reads sources. An empty cache
 * folder and an empty URL list say nothing, so the engine keeps its defaults (and environment);
 * a relative folder or a non-http(s) URL is left out rather than failing every job — the
 * Settings page marks them.
 */
export function sourceSettingsOf(settings: Settings): SourceSettings {
  const cacheDir = settings.cacheFolder.trim();
  const catalogUrls = settings.catalogUrls.filter(isHttpUrl);
  return {
    ...(isAbsoluteFolder(cacheDir) ? { cacheDir } : {}),
    cacheLimitBytes: Math.max(1, Math.round(settings.cacheLimitGiB * GiB)),
    ...(catalogUrls.length > 0 ? { catalogUrls } : {}),
  };
}

export function serializeSettings(settings: Settings): string {
  return JSON.stringify(settings);
}
