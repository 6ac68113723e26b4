/** Step 4: what will happen, drawn — the card now (to be erased) and after flashing — then Flash. */
import { useState, type ReactNode } from 'react';
import { ErrorPanel } from '../components/error-panel';
import { LayoutPicture } from '../components/layout-picture';
import { confirmationWord, isSeveral, needsTypedConfirmation, type FlowState } from '../store/flow';
import { imageName } from '../view/image-name';
import { customiseSummary } from '../view/customise-summary';
import { customiseRefusal, customiseWrites } from '../view/customise-writes';
import { useActions, useApp, useI18n } from '../store/store-context';
import { formatBytes } from '../view/format';
import { loaderSlotsOf, loadersFoundOf, type LayoutInput } from '../view/layout';
import type { BuildPlanResult, InspectResult } from '../store/app-store';
import { IDLE, type Loadable } from '../store/loadable';

/** Nothing recognisable: no table, no partitions, no loader (a blank card, or a compressed image). */
export function isBlank(inspection: InspectResult['inspection']): boolean {
  return inspection.table === 'none' && inspection.partitions.length === 0 && inspection.loaders.length === 0;
}

/**
 * The card after flashing: the image's partitions (when known) plus the board's loader slots; for
 * a rootfs build, the partitions and loader writes its plan foretells.
 */
export function afterLayout(flow: FlowState, imageInfo: Loadable<InspectResult>, buildPlan: Loadable<BuildPlanResult> = IDLE): LayoutInput | null {
  const size = flow.drive?.sizeBytes ?? null;
  if (size === null) return null;
  if (flow.image?.kind === 'rootfs' && buildPlan.status === 'ready') {
    const plan = buildPlan.value;
    return { sizeBytes: size, table: plan.table, partitions: plan.partitions, loaders: plan.loaderWrites.map((w) => ({ start: w.offset, end: w.offset + w.length, label: w.file })) };
  }
  const loaders = flow.board?.kind === 'board' ? loaderSlotsOf(flow.board.board) : [];
  if (imageInfo.status === 'ready' && flow.image?.kind === 'file' && !isBlank(imageInfo.value.inspection)) {
    const { inspection } = imageInfo.value;
    return { sizeBytes: size, table: inspection.table, partitions: inspection.partitions, loaders: [...loaders, ...loadersFoundOf(inspection).filter(() => loaders.length === 0)] };
  }
  return loaders.length > 0 ? { sizeBytes: size, table: 'none', partitions: [], loaders } : null;
}

export function ReviewPage(): ReactNode {
  const { t, language } = useI18n();
  const actions = useActions();
  const flowState = useApp((s) => s.flow);
  const imageInfo = useApp((s) => s.imageInfo);
  const reviewCard = useApp((s) => s.reviewCard);
  const buildPlan = useApp((s) => s.buildPlan);
  const firstBootPlan = useApp((s) => s.firstBootPlan);
  const settings = useApp((s) => s.settings);
  const [typed, setTyped] = useState('');
  const { board, image, drive } = flowState;
  if (!board || !image || !drive) return null;
  const after = afterLayout(flowState, imageInfo, buildPlan);
  const needsWord = needsTypedConfirmation(drive);
  const word = confirmationWord(drive);
  const summary = customiseSummary(flowState.customise, t);
  const writes = customiseWrites(flowState, imageInfo, buildPlan, firstBootPlan, t, language);
  // An image that cannot take settings greys the option out (it stays open to undo a choice).
  const refusal = flowState.customise === null ? customiseRefusal(flowState, imageInfo, language) : null;
  // Several cards: each is listed and erased alike; the pictures describe one card, so they are left out.
  const several = isSeveral(flowState);
  const devices = flowState.cards.map((d) => d.device).join(', ');

  return (
    <div className="page review-page">
      <dl className="facts">
        <dt>{t('review.board')}</dt>
        <dd>{board.kind === 'board' ? board.board.name : t('board.generic')}</dd>
        <dt>{t('review.image')}</dt>
        <dd>{imageName(image)}</dd>
        <dt>{t('review.customise')}</dt>
        <dd className="customise-summary">
          {summary.length > 0 ? summary.join(' · ') : t('review.customise.none')}{' '}
          <button type="button" disabled={refusal !== null} aria-describedby={refusal !== null ? 'customise-refusal' : undefined} onClick={() => actions.goTo('customise')}>
            {t('review.customise.edit')}
          </button>
          {refusal !== null ? (
            <span id="customise-refusal" className="muted">
              {' '}
              {t('customise.unavailable', { reason: refusal })}
            </span>
          ) : null}
          {writes ? (
            <div className="customise-writes">
              <p className={writes.refused ? 'field-error' : 'muted'}>{writes.heading}</p>
              {writes.files.length > 0 ? (
                <ul>
                  {writes.files.map((file) => (
                    <li key={file}>
                      <code>{file}</code>
                    </li>
                  ))}
                </ul>
              ) : null}
            </div>
          ) : null}
        </dd>
        <dt>{several ? t('many.cards') : t('review.card')}</dt>
        {several ? (
          <dd>
            <ul className="many-review">
              {flowState.cards.map((d) => (
                <li key={d.device}>
                  {d.description} ({d.device}, {formatBytes(d.sizeBytes, language)})
                </li>
              ))}
            </ul>
          </dd>
        ) : (
          <dd>
            {drive.description} ({drive.device}, {formatBytes(drive.sizeBytes, language)})
          </dd>
        )}
      </dl>
      {several ? null : <OneCardPictures reviewCard={reviewCard} buildPlan={buildPlan} after={after} />}
      <p className="erase-warning" role="note">
        {several ? t('many.erase', { devices }) : t('review.erase', { device: drive.device, size: formatBytes(drive.sizeBytes, language) })}
      </p>
      <div className="button-row">
        <label className="radio-line">
          <input type="checkbox" checked={settings.verify} onChange={(e) => actions.updateSettings({ verify: e.target.checked })} />
          {t('review.verify')}
        </label>
        <label className="radio-line">
          <input type="checkbox" checked={settings.eject} onChange={(e) => actions.updateSettings({ eject: e.target.checked })} />
          {t('review.eject')}
        </label>
      </div>
      {needsWord && !several ? (
        <label className="field">
          <span>{t('review.confirm', { word })}</span>
          <input
            aria-label={t('review.confirmLabel')}
            value={typed}
            onChange={(e) => {
              setTyped(e.target.value);
              actions.setConfirmed(e.target.value.trim() === word);
            }}
          />
        </label>
      ) : null}
    </div>
  );
}

/** The one card now and after flashing, drawn. */
function OneCardPictures({ reviewCard, buildPlan, after }: { reviewCard: Loadable<InspectResult>; buildPlan: Loadable<BuildPlanResult>; after: LayoutInput | null }): ReactNode {
  const { t } = useI18n();
  return (
    <>
      {reviewCard.status === 'ready' && isBlank(reviewCard.value.inspection) ? <p className="muted">{t('review.blank')}</p> : null}
      {reviewCard.status === 'ready' && !isBlank(reviewCard.value.inspection) ? (
        <LayoutPicture
          title={t('review.now')}
          input={{
            sizeBytes: reviewCard.value.inspection.sizeBytes,
            table: reviewCard.value.inspection.table,
            partitions: reviewCard.value.inspection.partitions,
            loaders: loadersFoundOf(reviewCard.value.inspection),
          }}
        />
      ) : null}
      {reviewCard.status === 'failed' ? <ErrorPanel error={reviewCard.error} /> : null}
      {buildPlan.status === 'loading' ? <p className="muted">{t('review.planning')}</p> : null}
      {buildPlan.status === 'failed' ? <ErrorPanel error={buildPlan.error} /> : null}
      {after ? <LayoutPicture title={t('review.after')} input={after} /> : <p className="muted">{t('review.afterUnknown')}</p>}
    </>
  );
}
