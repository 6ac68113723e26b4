/** "Open log": shows a job's log file in the system's file manager, next to where its path is printed. */
import { useState, type ReactNode } from 'react';
import { useActions, useI18n } from '../store/store-context';

export function OpenLogButton({ path }: { path: string }): ReactNode {
  const { t } = useI18n();
  const actions = useActions();
  const [failure, setFailure] = useState<string | null>(null);
  const open = (): void => {
    void actions.showItemInFolder(path).then((outcome) => setFailure(outcome.ok ? null : outcome.error.message));
  };
  return (
    <>
      <button type="button" onClick={open}>
        {t('error.openLog')}
      </button>
      {failure ? (
        <span className="field-error" role="status">
          {failure}
        </span>
      ) : null}
    </>
  );
}
