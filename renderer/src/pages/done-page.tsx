/** Step 6: the card is written — safe to remove, verify again, or flash another. */
import type { ReactNode } from 'react';
import { OpenLogButton } from '../components/open-log-button';
import { useActions, useApp, useI18n } from '../store/store-context';
import { formatBytes } from '../view/format';
import { CopyLogButton } from './flash-page';

export function DonePage(): ReactNode {
  const { t, language } = useI18n();
  const actions = useActions();
  const result = useApp((s) => s.flashResult);
  const job = useApp((s) => s.job);
  const eject = useApp((s) => s.settings.eject);
  const source = useApp((s) => s.flashedSource);
  if (!result) return null;
  return (
    <div className="page done-page">
      <p className="done-safe" role="status">
        {eject ? t('done.safe') : t('done.notEjected')}
      </p>
      <p>{t('done.written', { size: formatBytes(result.bytesWritten, language), device: result.device })}</p>
      <p>{result.verified ? t('done.verified') : t('done.notVerified')}</p>
      {result.logFile ? (
        <p className="muted">
          {t('error.log', { path: result.logFile })} <OpenLogButton path={result.logFile} />
        </p>
      ) : null}
      <div className="button-row">
        {source ? (
          <button type="button" onClick={() => void actions.startVerify(source, result.device)}>
            {t('done.verifyAgain')}
          </button>
        ) : null}
        <button type="button" className="primary" onClick={() => actions.flashAnother()}>
          {t('done.another')}
        </button>
        {job ? <CopyLogButton job={job} /> : null}
      </div>
    </div>
  );
}
