/**
 * "Verify a card": compare a card with an image. A damaged card can differ in thousands of ranges,
 * so the result is a summary (how many, how many bytes, the first few) and the log holds the rest.
 */
import { useState, type ReactNode } from 'react';
import { DriveSelect } from '../components/drive-select';
import { OpenLogButton } from '../components/open-log-button';
import { isAbsoluteFolder, isHttpUrl } from '../store/settings';
import { JobView } from './flash-page';
import { useActions, useApp, useI18n } from '../store/store-context';
import { formatBytes, formatOffset } from '../view/format';
import { pluralKey } from '../i18n/translate';

/** How many differing ranges are listed one by one; the rest are counted. */
export const SHOWN_RANGES = 10;

/** The engine names its log file in the job's first lines ("… (log /path/to/file.log)"). */
export function logFileOf(log: readonly { readonly message: string }[]): string | null {
  for (const line of log) {
    const found = /\(log ([^)]+)\)\s*$/.exec(line.message);
    if (found?.[1]) return found[1];
  }
  return null;
}

export function VerifyPage(): ReactNode {
  const { t, language } = useI18n();
  const actions = useActions();
  const job = useApp((s) => s.job);
  const result = useApp((s) => s.verifyResult);
  const flashedSource = useApp((s) => s.flashedSource);
  const flashed = useApp((s) => s.flashResult);
  // Only something a person could have typed is pre-filled: a path or a URL, never a catalog id.
  const [source, setSource] = useState(flashedSource && (isAbsoluteFolder(flashedSource) || isHttpUrl(flashedSource)) ? flashedSource : '');
  const [device, setDevice] = useState(flashed?.device ?? '');
  const running = job?.status === 'running';
  const logFile = job?.kind === 'verify' ? logFileOf(job.log) : null;
  return (
    <div className="page verify-page">
      <form
        className="stack-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (source.trim() && device) void actions.startVerify(source.trim(), device);
        }}
      >
        <label className="field">
          <span>{t('verify.source')}</span>
          <input value={source} onChange={(e) => setSource(e.target.value)} spellCheck={false} />
        </label>
        <button type="button" onClick={() => void actions.chooseImageFile().then((p) => p && setSource(p))}>
          {t('image.file.choose')}
        </button>
        <DriveSelect id="verify-device" value={device} onChange={setDevice} label={t('verify.device')} />
        <button type="submit" className="primary" disabled={running || !source.trim() || !device}>
          {t('verify.start')}
        </button>
      </form>
      {job?.kind === 'verify' ? <JobView job={job} /> : null}
      {result.status === 'ready' ? (
        result.value.ok ? (
          <p className="verify-ok" role="status">
            {t('verify.ok', { size: formatBytes(result.value.bytesChecked, language) })}
          </p>
        ) : (
          <div className="verify-mismatch" role="status">
            <p>{t('verify.mismatch')}</p>
            <p className="verify-summary">
              {t('verify.summary', {
                ranges: t(pluralKey(language, result.value.mismatchCount, 'verify.ranges.one', 'verify.ranges.other'), {
                  count: result.value.mismatchCount.toLocaleString(language),
                }),
                size: formatBytes(result.value.mismatchBytes, language),
              })}
            </p>
            <ul>
              {result.value.mismatches.slice(0, SHOWN_RANGES).map((r) => (
                <li key={r.start} data-start={r.start} data-end={r.end}>
                  {t('verify.range', { start: formatOffset(r.start), end: formatOffset(r.end) })}
                </li>
              ))}
            </ul>
            {result.value.mismatchCount > SHOWN_RANGES ? (
              <p className="muted">
                {t('verify.more', { count: (result.value.mismatchCount - SHOWN_RANGES).toLocaleString(language) })}
                {logFile ? <OpenLogButton path={logFile} /> : null}
              </p>
            ) : null}
          </div>
        )
      ) : null}
    </div>
  );
}
