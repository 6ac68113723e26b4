/** Settings: theme, language, verify/eject defaults, cache folder and limit, catalog URLs. */
import { useState, type ReactNode } from 'react';
import { PresetsSection } from '../components/presets-section';
import { LANGUAGE_NAMES, LANGUAGES } from '../i18n/translate';
import { isAbsoluteFolder, isHttpUrl, type LanguageSetting, type Theme } from '../store/settings';
import { useActions, useApp, useI18n } from '../store/store-context';

export function SettingsPage(): ReactNode {
  const { t } = useI18n();
  const actions = useActions();
  const settings = useApp((s) => s.settings);
  const [urls, setUrls] = useState(settings.catalogUrls.join('\n'));
  const folder = settings.cacheFolder.trim();
  const folderInvalid = folder !== '' && !isAbsoluteFolder(folder);
  const badUrls = settings.catalogUrls.filter((url) => !isHttpUrl(url));
  return (
    <form className="page settings-page stack-form" onSubmit={(e) => e.preventDefault()}>
      <div className="field">
        <label htmlFor="settings-theme">{t('settings.theme')}</label>
        <select id="settings-theme" value={settings.theme} onChange={(e) => actions.updateSettings({ theme: e.target.value as Theme })}>
          {(['system', 'light', 'dark'] as const).map((theme) => (
            <option key={theme} value={theme}>
              {t(`settings.theme.${theme}`)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="settings-language">{t('settings.language')}</label>
        <select id="settings-language" value={settings.language} onChange={(e) => actions.updateSettings({ language: e.target.value as LanguageSetting })}>
          <option value="auto">{t('settings.language.auto')}</option>
          {LANGUAGES.map((lang) => (
            <option key={lang} value={lang}>
              {LANGUAGE_NAMES[lang]}
            </option>
          ))}
        </select>
      </div>
      <label className="radio-line">
        <input type="checkbox" checked={settings.verify} onChange={(e) => actions.updateSettings({ verify: e.target.checked })} />
        {t('settings.verify')}
      </label>
      <label className="radio-line">
        <input type="checkbox" checked={settings.eject} onChange={(e) => actions.updateSettings({ eject: e.target.checked })} />
        {t('settings.eject')}
      </label>
      <label className="field">
        <span>{t('settings.cacheFolder')}</span>
        <input
          value={settings.cacheFolder}
          onChange={(e) => actions.updateSettings({ cacheFolder: e.target.value })}
          spellCheck={false}
          aria-invalid={folderInvalid}
          aria-describedby="settings-cache-folder-error"
        />
        <span id="settings-cache-folder-error" className="field-error" aria-live="polite">
          {folderInvalid ? t('settings.cacheFolder.relative') : ''}
        </span>
      </label>
      <label className="field">
        <span>{t('settings.cacheLimit')}</span>
        <input
          type="number"
          min={1}
          value={settings.cacheLimitGiB}
          onChange={(e) => Number(e.target.value) > 0 && actions.updateSettings({ cacheLimitGiB: Number(e.target.value) })}
        />
      </label>
      <label className="field">
        <span>{t('settings.catalogUrls')}</span>
        <textarea
          rows={3}
          value={urls}
          onChange={(e) => setUrls(e.target.value)}
          onBlur={() => actions.updateSettings({ catalogUrls: urls.split('\n').map((u) => u.trim()).filter(Boolean) })}
          aria-invalid={badUrls.length > 0}
          aria-describedby="settings-catalog-urls-error"
        />
        <span id="settings-catalog-urls-error" className="field-error" aria-live="polite">
          {badUrls.length > 0 ? t('settings.catalogUrls.invalid', { urls: badUrls.join(', ') }) : ''}
        </span>
      </label>
      <PresetsSection />
    </form>
  );
}
