/** The card picker Verify and Inspect share: every drive the engine lists, by a name people know. */
import type { ReactNode } from 'react';
import { useActions, useApp, useI18n } from '../store/store-context';
import { formatBytes } from '../view/format';
import { driveLabel } from '../view/messages';
import { ErrorPanel } from './error-panel';

export function DriveSelect({ id, value, onChange, label }: { id: string; value: string; onChange: (device: string) => void; label: string }): ReactNode {
  const { t, language } = useI18n();
  const actions = useActions();
  const drives = useApp((s) => s.drives);
  const listed = drives.status === 'ready' ? drives.value : [];
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{t('verify.chooseCard')}</option>
        {value && !listed.some((d) => d.device === value) ? <option value={value}>{value}</option> : null}
        {listed.map((d) => (
          <option key={d.device} value={d.device}>
            {driveLabel(d, t)} ({d.device}, {formatBytes(d.sizeBytes, language)})
          </option>
        ))}
      </select>
      {drives.status === 'failed' ? <ErrorPanel error={drives.error} onRetry={() => void actions.refreshDrives()} /> : null}
    </div>
  );
}
