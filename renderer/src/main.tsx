/** Entry point: one store bound to `window.cardsmith`, settings in localStorage, system languages. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { createClient } from './client/cardsmith-client';
import { createAppStore } from './store/app-store';
import { StoreProvider } from './store/store-context';
import './styles.css';

/** The Web Notification API (Electron shows these as system notifications); asked for once. */
function notifyWithWebNotifications(title: string, body: string): void {
  if (!('Notification' in window)) return;
  const show = (): void => void new Notification(title, { body });
  if (Notification.permission === 'granted') show();
  else if (Notification.permission === 'default') void Notification.requestPermission().then((p) => p === 'granted' && show());
}

const store = createAppStore({
  client: createClient(window.cardsmith),
  storage: window.localStorage,
  systemLanguages: navigator.languages.length > 0 ? navigator.languages : [navigator.language],
  notify: notifyWithWebNotifications,
});
void store.getState().actions.loadBoards();
void store.getState().actions.loadPresets();

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
