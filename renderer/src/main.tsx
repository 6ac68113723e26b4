/** Entry point: one store bound to `window.cardsmith`, settings in localStorage, system languages. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { createClient } from './client/cardsmith-client';
import { createAppStore } from './store/app-store';
import { StoreProvider } from './store/store-context';
import './styles.css';

const store = createAppStore({
  client: createClient(window.cardsmith),
  storage: window.localStorage,
  systemLanguages: navigator.languages.length > 0 ? navigator.languages : [navigator.language],
});
void store.getState().actions.loadBoards();

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <StoreProvider store={store}>
        <App />
      </StoreProvider>
    </StrictMode>,
  );
}
