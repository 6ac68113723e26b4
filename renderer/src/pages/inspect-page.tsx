/** "Inspect a card": the layout picture of a card or image file and the loaders found on it. */
import { useState, type ReactNode } from 'react';
import { DriveSelect } from '../components/drive-select';
import { ErrorPanel } from '../components/error-panel';
import { LayoutPicture } from '../components/layout-picture';
import { useActions, useApp, useI18n } from '../store/store-context';
import { formatBytes, formatOffset } from '../view/format';
import { loadersFoundOf } from '../view/layout';

export function InspectPage(): ReactNode {
  const { t, language } = useI18n();
  const actions = useActions();
  const target = useApp((s) => s.inspectTarget);
  const result = useApp((s) => s.inspectResult);
  const [typed, setTyped] = useState(target);
  return (
    <div className="page inspect-page">
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (typed.trim()) void actions.startInspect(typed.trim());
        }}
      >
        <label className="field">
          <span>{t('inspect.target')}</span>
          <input value={typed} onChange={(e) => setTyped(e.target.value)} spellCheck={false} placeholder="/dev/sdX" />
        </label>
        <button
          type="button"
          onClick={() =>
            void actions.chooseImageFile().then((p) => {
              if (p) {
                setTyped(p);
                void actions.startInspect(p);
              }
            })
          }
        >
          {t('image.file.choose')}
        </button>
        <DriveSelect id="inspect-device" value={typed.startsWith('/dev/') || typed.startsWith('\\\\.\\') ? typed : ''} onChange={(d) => d && setTyped(d)} label={t('inspect.card')} />
        <button type="submit" className="primary">
          {t('inspect.start')}
        </button>
      </form>
      {result.status === 'loading' ? <p aria-live="polite">{t('image.file.inspecting')}</p> : null}
      {result.status === 'failed' ? <ErrorPanel error={result.error} onRetry={() => void actions.startInspect(target)} /> : null}
      {result.status === 'ready' ? (
        <div className="inspection">
          <p>
            {t('inspect.size', { size: formatBytes(result.value.inspection.sizeBytes, language) })} ·{' '}
            {t('inspect.table', { table: result.value.inspection.table })}
          </p>
          <LayoutPicture
            title={result.value.inspection.target}
            input={{
              sizeBytes: result.value.inspection.sizeBytes,
              table: result.value.inspection.table,
              partitions: result.value.inspection.partitions,
              loaders: loadersFoundOf(result.value.inspection),
            }}
          />
          <h3>{t('inspect.loaders')}</h3>
          {result.value.inspection.loaders.length === 0 ? <p>{t('inspect.noLoaders')}</p> : null}
          <ul>
            {result.value.inspection.loaders.map((l) => (
              <li key={`${l.kind}-${l.offset}`}>
                {l.kind} @ {formatOffset(l.offset)} — {l.valid ? t('inspect.valid') : t('inspect.invalid')} — {l.detail}
              </li>
            ))}
          </ul>
          {result.value.inspection.consistentBoards.length > 0 ? (
            <>
              <h3>{t('inspect.boards')}</h3>
              <p>{result.value.inspection.consistentBoards.join(', ')}</p>
            </>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
