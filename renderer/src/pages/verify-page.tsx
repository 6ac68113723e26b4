/** "Verify a card": compare a card with an image and show every range that differs. */
import { useState, type ReactNode } from 'react';
import { ErrorPanel } from '../components/error-panel';
import { JobView } from './flash-page';
import { useActions, useApp, useI18n } from '../store/store-context';
import { formatBytes, formatOffset } from '../view/format';

export function VerifyPage(): ReactNode {
  const { t, language } = useI18n();
  const actions = useActions();
  const drives = useApp((s) => s.drives);
  const job = useApp((s) => s.job);
  const result = useApp((s) => s.verifyResult);
  const flashedSource = useApp((s) => s.flashedSource);
  const flashed = useApp((s) => s.flashResult);
  const [source, setSource] = useState(flashedSource ?? '');
  const [device, setDevice] = useState(flashed?.device ?? '');
  const running = job?.status === 'running';
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
        <div className="field">
          <label htmlFor="verify-device">{t('verify.device')}</label>
          <select id="verify-device" value={device} onChange={(e) => setDevice(e.target.value)}>
            <option value="">{t('verify.chooseCard')}</option>
            {device && !(drives.status === 'ready' && drives.value.some((d) => d.device === device)) ? <option value={device}>{device}</option> : null}
            {drives.status === 'ready'
              ? drives.value.map((d) => (
                  <option key={d.device} value={d.device}>
                    {d.description} ({d.device}, {formatBytes(d.sizeBytes, language)})
                  </option>
                ))
              : null}
          </select>
        </div>
        {drives.status === 'failed' ? <ErrorPanel error={drives.error} onRetry={() => void actions.refreshDrives()} /> : null}
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
            <ul>
              {result.value.mismatches.map((r) => (
                <li key={r.start} data-start={r.start} data-end={r.end}>
                  {t('verify.range', { start: formatOffset(r.start), end: formatOffset(r.end) })}
                </li>
              ))}
            </ul>
          </div>
        )
      ) : null}
    </div>
  );
}
