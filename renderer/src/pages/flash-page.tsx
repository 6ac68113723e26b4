/** Step 5: one progress row per phase, cancel, and the outcome when it fails or is cancelled. */
import type { ReactNode } from 'react';
import { ErrorPanel } from '../components/error-panel';
import { PhaseRows } from '../components/phase-rows';
import { logText, type JobState } from '../store/job';
import { useActions, useApp, useI18n } from '../store/store-context';

export function CopyLogButton({ job }: { job: JobState }): ReactNode {
  const { t } = useI18n();
  return (
    <button type="button" onClick={() => void navigator.clipboard?.writeText(logText(job))}>
      {t('flash.copyLog')}
    </button>
  );
}

export function JobView({ job }: { job: JobState }): ReactNode {
  const { t } = useI18n();
  const actions = useActions();
  return (
    <div className="job-view" data-job-status={job.status}>
      <PhaseRows rows={job.phases} />
      {job.status === 'running' ? (
        <button type="button" onClick={() => void actions.cancelJob()} disabled={job.cancelling}>
          {job.cancelling ? t('flash.cancelling') : t('flash.cancel')}
        </button>
      ) : null}
      {job.status === 'cancelled' ? (
        <p className="cancelled-note" role="status">
          {t('flash.cancelled')} {job.error?.message}
        </p>
      ) : null}
      {job.status === 'failed' && job.error ? <ErrorPanel error={job.error} extra={<CopyLogButton job={job} />} /> : null}
    </div>
  );
}

export function FlashPage(): ReactNode {
  const { t } = useI18n();
  const actions = useActions();
  const job = useApp((s) => s.job);
  if (!job) return null;
  return (
    <div className="page flash-page">
      <JobView job={job} />
      {job.status === 'failed' || job.status === 'cancelled' ? (
        <div className="button-row">
          <button type="button" onClick={() => actions.goTo('review')}>
            {t('flash.retry')}
          </button>
          {job.status === 'cancelled' ? <CopyLogButton job={job} /> : null}
        </div>
      ) : null}
    </div>
  );
}
