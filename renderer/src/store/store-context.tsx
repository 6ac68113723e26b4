/** React access to the app store and the translation layer (one store per window, or per test). */
import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import { resolveLanguage, translate, type Language, type Translator } from '../i18n/translate';
import type { AppActions, AppState, AppStore } from './app-store';

const StoreContext = createContext<AppStore | null>(null);

export function StoreProvider({ store, children }: { store: AppStore; children: ReactNode }): ReactNode {
  return <StoreContext.Provider value={store}>{children}</StoreContext.Provider>;
}

function useAppStore(): AppStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('StoreProvider is missing');
  return store;
}

export function useApp<T>(selector: (state: AppState) => T): T {
  return useStore(useAppStore(), selector);
}

export function useActions(): AppActions {
  return useApp((s) => s.actions);
}

export interface I18n {
  readonly t: Translator;
  readonly language: Language;
}

export function useI18n(): I18n {
  const setting = useApp((s) => s.settings.language);
  const system = useApp((s) => s.systemLanguages);
  const language = resolveLanguage(setting, system);
  return { language, t: (key, params) => translate(language, key, params) };
}
