/**
 * Step 6: what was written, how long it took, the verify result, whether the card may be pulled
 * (only when the eject phase really ended done), and what to do next with that board.
 */
import type { ReactNode } from 'react';
import { failureText } from '../components/card-rows';
import { OpenLogButton } from '../components/open-log-button';
import type { JobState, PhaseRow } from '../store/job';
import { useActions, useApp, useI18n } from '../store/store-context';
import { imageName } from '../view/image-name';
import { phaseDetailText } from '../view/messages';
import { formatBytes, formatEta } from '../view/format';
import { CopyLogButton } from './flash-page';

export type EjectOutcome = { readonly kind: 'ejected' } | { readonly kind: 'not-asked' } | ({ readonly kind: 'failed' } & Pick<PhaseRow, 'detail' | 'detailKeyed'>);

/** The eject phase's own result: only a `done` eject makes the card safe to pull. */
export function ejectOutcome(job: JobState | null): EjectOutcome {
  const row = job?.phases.find((r) => r.phase === 'eject');
  if (!row) return { kind: 'not-asked' };
  if (row.status === 'done') return { kind: 'ejected' };
  return { kind: 'failed', detail: row.detail ?? '', ...(row.detailKeyed ? { detailKeyed: row.detailKeyed } : {}) };
}

/** Several cards: each card's own outcome — written (and verified), or failed and why. */
function ManyDone(): ReactNode {
  const { t, language } = useI18n();
  const actions = useActions();
  const many = useApp((s) => s.many);
  const outcomes = useApp((s) => s.manyResult);
  const job = useApp((s) => s.job);
  if (!many || !outcomes) return null;
  const ok = outcomes.filter((o) => o.ok).length;
  return (
    <div className="page done-page">
      <p role="status">{t('many.done.summary', { ok, total: many.length })}</p>
      <ul className="many-outcomes">
        {many.map((card) => {
          const outcome = card.outcome;
          const text = outcome?.ok ? t(outcome.verified ? 'many.done.verified' : 'many.done.written') : t('station.state.failed', { reason: failureText(outcome?.error ?? null, card.slot.error, t, language) });
          return (
            <li key={card.drive.device} data-device={card.drive.device} data-ok={outcome?.ok ? 'true' : 'false'} className={outcome?.ok ? 'done-safe' : 'done-not-safe'}>
              {card.drive.device}: {text}
            </li>
          );
        })}
      </ul>
      <div className="button-row">
        <button type="button" className="primary" onClick={() => actions.flashAnother()}>
          {t('done.another')}
        </button>
        {job ? <CopyLogButton job={job} /> : null}
      </div>
    </div>
  );
}

export function DonePage(): ReactNode {
  const { t, language } = useI18n();
  const actions = useActions();
  const several = useApp((s) => s.manyResult !== null);
  const result = useApp((s) => s.flashResult);
  const job = useApp((s) => s.job);
  const source = useApp((s) => s.flashedSource);
  const flowState = useApp((s) => s.flow);
  if (several) return <ManyDone />;
  if (!result) return null;
  const eject = ejectOutcome(job);
  const seconds = job?.endedAt ? (job.endedAt - job.startedAt) / 1000 : null;
  const board = flowState.board?.kind === 'board' ? flowState.board.board : null;
  return (
    <div className="page done-page">
      <p className={eject.kind === 'ejected' ? 'done-safe' : 'done-not-safe'} role="status">
        {eject.kind === 'ejected' ? t('done.safe') : eject.kind === 'not-asked' ? t('done.notEjected') : t('done.ejectFailed', { detail: phaseDetailText(eject, language) })}
      </p>
      <p>
        {t('done.written', { size: formatBytes(result.bytesWritten, language), device: result.device })}
        {flowState.image ? ` ${t('done.what', { image: imageName(flowState.image) })}` : ''}
        {seconds !== null ? ` ${t('done.took', { time: formatEta(seconds) })}` : ''}
      </p>
      <p>{result.verified ? t('done.verified') : t('done.notVerified')}</p>
      <p className="done-next">{board ? t('done.nextBoard', { board: board.name }) : t('done.nextGeneric')}
        {board?.console ? ` ${t('done.console', { console: board.console })}` : ''}</p>
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
