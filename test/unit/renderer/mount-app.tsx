/** The whole app rendered in jsdom against a scripted `window.cardsmith`, and the queries every flow test uses. */
import { render, screen } from '@testing-library/react';
import { App } from '../../../renderer/src/app';
import { createClient } from '../../../renderer/src/client/cardsmith-client';
import { createAppStore, type AppStore } from '../../../renderer/src/store/app-store';
import { StoreProvider } from '../../../renderer/src/store/store-context';
import type { FakeApi } from './samples';

export function mountApp(api: FakeApi, languages: readonly string[] = ['en-US'], notify?: (title: string, body: string) => void): AppStore {
  const store = createAppStore({ client: createClient(api), storage: null, systemLanguages: languages, ...(notify ? { notify } : {}) });
  render(
    <StoreProvider store={store}>
      <App />
    </StoreProvider>,
  );
  return store;
}

export const heading = (): string | null => screen.getByRole('heading', { level: 1 }).textContent;
export const nextButton = (): HTMLButtonElement => screen.getByRole('button', { name: /^(Next|Weiter|Suivant)$/ }) as HTMLButtonElement;
