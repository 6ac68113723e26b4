/**
 * Settings: customisation presets. The current customisation (chosen in the Customise step,
 * secrets already hashed) is saved under a name; one preset may be the default, which the
 * Customise step then offers at each flash.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { ErrorPanel } from './error-panel';
import { useActions, useApp, useI18n } from '../store/store-context';

export function PresetsSection(): ReactNode {
  const { t } = useI18n();
  const actions = useActions();
  const presets = useApp((s) => s.presets);
  const current = useApp((s) => s.flow.customise);
  const [name, setName] = useState('');
  const [asDefault, setAsDefault] = useState(false);
  useEffect(() => {
    if (presets.status === 'idle') void actions.loadPresets();
  }, [presets.status, actions]);
  const list = presets.status === 'ready' ? presets.value : [];
  const trimmed = name.trim();

  return (
    <fieldset className="presets">
      <legend>{t('settings.presets')}</legend>
      {presets.status === 'failed' ? <ErrorPanel error={presets.error} onRetry={() => void actions.loadPresets()} /> : null}
      {presets.status === 'ready' && list.length === 0 ? <p className="muted">{t('settings.presets.none')}</p> : null}
      {list.length > 0 ? (
        <div role="radiogroup" aria-label={t('settings.presets.default')}>
          <label className="radio-line">
            <input type="radio" name="default-preset" checked={!list.some((p) => p.default)} onChange={() => void actions.setDefaultPreset(null)} />
            {t('settings.presets.noDefault')}
          </label>
          {list.map((preset) => (
            <div key={preset.name} className="button-row">
              <label className="radio-line">
                <input type="radio" name="default-preset" checked={preset.default === true} onChange={() => void actions.setDefaultPreset(preset.name)} />
                {preset.name}
              </label>
              <button type="button" onClick={() => void actions.removePreset(preset.name)}>
                {t('settings.presets.delete', { name: preset.name })}
              </button>
            </div>
          ))}
        </div>
      ) : null}
      <div className="field">
        <label htmlFor="preset-name">{t('settings.presets.name')}</label>
        <input id="preset-name" value={name} maxLength={64} onChange={(e) => setName(e.target.value)} />
      </div>
      <label className="radio-line">
        <input type="checkbox" checked={asDefault} onChange={(e) => setAsDefault(e.target.checked)} />
        {t('settings.presets.asDefault')}
      </label>
      <button
        type="button"
        disabled={current === null || trimmed === ''}
        onClick={() => {
          void actions.savePreset(trimmed, asDefault);
          setName('');
        }}
      >
        {t('settings.presets.save')}
      </button>
      {current === null ? <p className="muted">{t('settings.presets.nothing')}</p> : null}
    </fieldset>
  );
}
