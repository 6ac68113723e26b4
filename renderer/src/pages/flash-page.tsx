/**
 * Step 5: one big overall percentage with elapsed time and time left, one row per phase beneath,
 * cancel, and the outcome naming the phase that stopped when it fails or is cancelled. Several
 * cards in one job show a row per card (state, %, speed) and their speed together instead.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { CardRows } from '../components/card-rows';
import { ErrorPanel } from '../components/error-panel';
import { PhaseRows } from '../components/phase-rows';
import { logText, overallFraction, stoppedPhase, type JobState } from '../store/job';
import { useActions, useApp, useI18n } from '../store/store-context';
import { formatEta, formatPercent } from '../view/format';

export function CopyLogButton({ job }: { job: JobState }): ReactNode {
  const { t } = useI18n();
  return (
    <button type="button" onClick={() => void navigator.clipboard?.writeText(logText(job))}>
      {t('flash.copyLog')}
    </button>
  );
}

/** Seconds since the job started, ticking while it runs. */
function useElapsed(job: JobState): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (job.endedAt !== null) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [job.endedAt]);
  return Math.max(0, ((job.endedAt ?? now) - job.startedAt) / 1000);
}

function Overall({ job }: { job: JobState }): ReactNode {
  const { t, language } = useI18n();
  const elapsed = useElapsed(job);
  const fraction = overallFraction(job) ?? 0;
  // Early on, the measured pace says little; the running phase's own estimate stands in for it.
  const rowEta = job.phases.find((row) => row.status === 'running')?.etaSeconds ?? null;
  const eta = job.status !== 'running' ? null : elapsed >= 3 && fraction > 0.02 ? (elapsed * (1 - fraction)) / fraction : rowEta;
  return (
    <div className="overall" aria-live="off">
      <span className="overall-percent">{formatPercent(fraction, language)}</span>
      <span className="overall-times">
        {t('flash.elapsed', { time: formatEta(elapsed) })}
        {job.status === 'running' ? ` · ${t('flash.eta', { eta: formatEta(eta) })}` : ''}
      </span>
    </div>
  );
}

export function JobView({ job, overall = true }: { job: JobState; overall?: boolean }): ReactNode {
  const { t } = useI18n();
  const actions = useActions();
  const stopped = stoppedPhase(job);
  const phaseName = stopped ? t(`phase.${stopped.phase}`) : null;
  return (
    <div className="job-view" data-job-status={job.status}>
      {job.kind === 'flash' && overall ? <Overall job={job} /> : null}
      <PhaseRows rows={job.phases} />
      {job.status === 'running' ? (
        <button type="button" onClick={() => void actions.cancelJob()} disabled={job.cancelling}>
          {job.cancelling ? t('flash.cancelling') : t('flash.cancel')}
        </button>
      ) : null}
      {job.status === 'cancelled' ? (
        <p className="cancelled-note" role="status">
          {phaseName ? t('flash.cancelledIn', { phase: phaseName }) : ''}
          {t(job.kind === 'flash' ? 'flash.cancelled' : 'verify.cancelled')}
        </p>
      ) : null}
      {job.status === 'failed' && job.error ? (
        <>
          {phaseName ? <p className="failed-note">{t('flash.failedIn', { phase: phaseName })}</p> : null}
          <ErrorPanel error={job.error} extra={<CopyLogButton job={job} />} />
        </>
      ) : null}
    </div>
  );
}

export function FlashPage(): ReactNode {
  const { t } = useI18n();
  const actions = useActions();
  const job = useApp((s) => s.job);
  const many = useApp((s) => s.many);
  if (!job) return null;
  return (
    <div className="page flash-page">
      {many ? <CardRows caption={t('many.cards')} rows={many.map((c) => ({ id: c.drive.device, drive: c.drive, slot: c.slot, error: c.outcome?.error ?? null }))} /> : null}
      <JobView job={job} overall={many === null} />
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
