/**
 * A classified error in plain words: the cause as a translated title, the message in the UI
 * language (the engine sends it as a key; without one, the English is shown as technical details),
 * what to try, the log file when there is one, and the details behind a disclosure with "copy details".
 */
import { useState, type ReactNode } from 'react';
import type { ErrorInfo } from '../../../electron/engine/errors';
import { useI18n } from '../store/store-context';
import { errorWords } from '../view/messages';
import { OpenLogButton } from './open-log-button';

export function errorDetailsText(error: ErrorInfo): string {
  return JSON.stringify(error, null, 2);
}

export function ErrorPanel({ error, onRetry, extra }: { error: ErrorInfo; onRetry?: () => void; extra?: ReactNode }): ReactNode {
  const { t, language } = useI18n();
  const [copied, setCopied] = useState(false);
  const { message, english, notes, hint } = errorWords(error, language);
  const copy = (): void => {
    void navigator.clipboard?.writeText(errorDetailsText(error)).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <section className="error-panel" role="alert" aria-labelledby="error-title" data-cause={error.cause}>
      <h3 id="error-title">{t(`cause.${error.cause}`)}</h3>
      {message !== null ? (
        <p className="error-message">{message}</p>
      ) : (
        <p className="error-message error-technical">
          {t('error.technical')}: <span lang="en">{english}</span>
        </p>
      )}
      {notes.length > 0 ? (
        <ul className="error-notes">
          {notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      ) : null}
      {hint ? (
        <p className="error-hint">
          <strong>{t('error.whatToTry')}:</strong> {hint}
        </p>
      ) : null}
      {error.logFile ? (
        <p className="error-log">
          {t('error.log', { path: error.logFile })} <OpenLogButton path={error.logFile} />
        </p>
      ) : null}
      {error.details && Object.keys(error.details).length > 0 ? (
        <details>
          <summary>{t('error.details')}</summary>
          <pre>{JSON.stringify(error.details, null, 2)}</pre>
        </details>
      ) : null}
      <div className="button-row">
        <button type="button" onClick={copy}>
          {copied ? t('error.copied') : t('error.copy')}
        </button>
        {onRetry ? (
          <button type="button" onClick={onRetry}>
            {t('error.retry')}
          </button>
        ) : null}
        {extra}
      </div>
    </section>
  );
}
