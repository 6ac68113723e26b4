/**
 * Step 3: the card. The list refreshes itself while the step is open; unsafe drives stay hidden
 * until the person asks to see all (and confirms), and even then they cannot be chosen. "Several
 * cards at once" turns the choice into checkboxes for one `flashMany` job (a plain image only).
 */
import { useEffect, useState, type ReactNode } from 'react';
import type { ResultOf } from '../../../electron/engine/api';
import type { Drive } from '../../../electron/engine/drives/model';
import { ErrorPanel } from '../components/error-panel';
import { imageBytesOf } from '../store/app-store';
import { useActions, useApp, useI18n } from '../store/store-context';
import { driveRows, hiddenDriveCount, type DriveBlock } from '../view/drives';
import { formatBytes } from '../view/format';
import { driveLabel, driveReasonText, driveWarnings } from '../view/messages';
import { pluralKey } from '../i18n/translate';
import { needsTypedConfirmation, severalBlock } from '../store/flow';
import type { Loadable } from '../store/loadable';

export const DRIVE_REFRESH_MS = 2000;

export function CardPage(): ReactNode {
  const { t, language } = useI18n();
  const actions = useActions();
  const drives = useApp((s) => s.drives);
  const showAll = useApp((s) => s.showAllDrives);
  const chosen = useApp((s) => s.flow.drive);
  const cards = useApp((s) => s.flow.cards);
  const severalWhy = useApp((s) => (s.oneCardPerJob ? 'platform' : severalBlock(s.flow)));
  const [several, setSeveral] = useState(cards.length > 0);
  const many = several && severalWhy === null;
  const isChosen = (drive: Drive): boolean => (cards.length > 0 ? cards.some((d) => d.device === drive.device) : chosen?.device === drive.device);
  const chosenCount = cards.length > 0 ? cards.length : chosen ? 1 : 0;
  const imageBytes = useApp((s) => imageBytesOf(s.imageInfo));
  const [asking, setAsking] = useState(false);
  const [askingCheck, setAskingCheck] = useState(false);
  const [check, setCheck] = useState<Loadable<ResultOf<'check'>> & { device?: string }>({ status: 'idle' });
  // Before the first flash to a card the app has not checked, the page says so next to the button.
  const [last, setLast] = useState<{ device: string; check: ResultOf<'check'> | null } | null>(null);
  const chosenDevice = chosen?.device;
  useEffect(() => {
    if (!chosenDevice) return;
    let live = true;
    void actions.lastCheck(chosenDevice).then((o) => live && o.ok && setLast({ device: chosenDevice, check: o.value.check }));
    return () => {
      live = false;
    };
  }, [actions, chosenDevice]);
  const runCheck = async (device: string): Promise<void> => {
    setAskingCheck(false);
    setCheck({ status: 'loading', device });
    const outcome = await actions.checkCard(device);
    setCheck(outcome.ok ? { status: 'ready', value: outcome.value, device } : { status: 'failed', error: outcome.error, device });
  };

  useEffect(() => {
    const timer = setInterval(() => void actions.refreshDrives(), DRIVE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [actions]);

  const list: readonly Drive[] = drives.status === 'ready' ? drives.value : [];
  const rows = driveRows(list, imageBytes, showAll);
  const hidden = showAll ? 0 : hiddenDriveCount(list);
  const blockText = (block: DriveBlock): string =>
    block.kind === 'too-small'
      ? t('card.tooSmall', { size: formatBytes(block.needBytes, language) })
      : t('card.unsafe', { reasons: block.reasons.map((r) => driveReasonText(r, language)).join(', ') });
  const hiddenText = t(pluralKey(language, hidden, 'card.hidden.one', 'card.hidden.other'), { count: hidden });
  const askToShowAll = (): void => setAsking(true);
  const toggleSeveral = (on: boolean): void => {
    setSeveral(on);
    if (!on && cards.length > 0) actions.chooseDrive(cards[0] ?? null);
  };

  return (
    <div className="page card-page">
      {drives.status === 'loading' ? <p aria-live="polite">{t('card.loading')}</p> : null}
      {drives.status === 'failed' ? <ErrorPanel error={drives.error} onRetry={() => void actions.refreshDrives()} /> : null}
      {drives.status === 'ready' && rows.length === 0 ? (
        <div className="empty-note">
          <p>{t('card.none')}</p>
          {hidden > 0 ? (
            <p>
              {hiddenText}{' '}
              <button type="button" onClick={askToShowAll}>
                {t('card.showWhy')}
              </button>
            </p>
          ) : null}
        </div>
      ) : null}
      <div className="several-line">
        <label className="radio-line">
          <input type="checkbox" checked={many} disabled={severalWhy !== null} onChange={(e) => toggleSeveral(e.target.checked)} aria-describedby={severalWhy ? 'several-why' : undefined} />
          {t('many.toggle')}
        </label>
        {severalWhy ? (
          <span id="several-why" className="muted">
            {t(`many.blocked.${severalWhy}`)}
          </span>
        ) : null}
        {many ? <span className="muted">{t(pluralKey(language, chosenCount, 'many.chosen.one', 'many.chosen.other'), { count: chosenCount })}</span> : null}
      </div>
      <div className="drive-list" role={many ? 'group' : 'radiogroup'} aria-label={t('card.list')}>
        {rows.map(({ drive, block }) => (
          <label key={drive.device} className={`choice ${isChosen(drive) ? 'chosen' : ''} ${block ? 'disabled' : ''}`}>
            {many ? (
              <input
                type="checkbox"
                value={drive.device}
                disabled={block !== null || needsTypedConfirmation(drive)}
                checked={isChosen(drive)}
                onChange={() => actions.toggleCard(drive)}
                aria-describedby={block ? `why-${drive.device}` : needsTypedConfirmation(drive) ? `large-${drive.device}` : undefined}
              />
            ) : (
              <input
                type="radio"
                name="drive"
                value={drive.device}
                disabled={block !== null}
                checked={chosen?.device === drive.device}
                onChange={() => actions.chooseDrive(drive)}
                aria-describedby={block ? `why-${drive.device}` : undefined}
              />
            )}
            <span className="choice-title">
              {driveLabel(drive, t)} — {formatBytes(drive.sizeBytes, language)}
            </span>
            <span className="choice-sub">
              {drive.device} · {t(`card.reader.${drive.readerKind}`)}
              {drive.mountpoints.length > 0 ? ` · ${t('card.mounted', { mounts: drive.mountpoints.join(', ') })}` : ''}
            </span>
            {driveWarnings(drive, language).map((text) => (
              <span key={text} className="choice-warning">
                {text}
              </span>
            ))}
            {many && !block && needsTypedConfirmation(drive) ? (
              <span id={`large-${drive.device}`} className="choice-blocked">
                {t('many.large')}
              </span>
            ) : null}
            {block ? (
              <span id={`why-${drive.device}`} className="choice-blocked">
                {blockText(block)}
              </span>
            ) : null}
          </label>
        ))}
      </div>
      <div className="button-row">
        {hidden > 0 && rows.length > 0 ? <span className="muted">{hiddenText}</span> : null}
        <label className="radio-line">
          <input type="checkbox" checked={showAll || asking} onChange={(e) => (e.target.checked ? setAsking(true) : actions.setShowAllDrives(false))} />
          {t('card.showAll')}
        </label>
        <button type="button" onClick={() => void actions.refreshDrives()}>
          {t('card.refresh')}
        </button>
        <button type="button" disabled={!chosen || check.status === 'loading'} onClick={() => setAskingCheck(true)}>
          {t('card.check')}
        </button>
      </div>
      {askingCheck && chosen ? (
        <div role="alertdialog" aria-labelledby="check-question" className="confirm-box">
          <p id="check-question">{t('card.checkConfirm', { device: chosen.device })}</p>
          <button type="button" onClick={() => void runCheck(chosen.device)}>
            {t('card.check')}
          </button>
          <button type="button" onClick={() => setAskingCheck(false)}>
            {t('flash.cancel')}
          </button>
        </div>
      ) : null}
      {last && last.device === chosenDevice && check.device !== chosenDevice ? (
        <p className="muted">{last.check ? t('card.lastCheck', { date: last.check.checkedAt.slice(0, 10), summary: last.check.summary }) : t('card.unchecked')}</p>
      ) : null}
      {check.status === 'loading' ? <p aria-live="polite">{t('card.checking', { device: check.device ?? '' })}</p> : null}
      {check.status === 'ready' ? (
        <p role="status" className={`check-verdict check-${check.value.verdict}`}>
          {check.value.device}: {check.value.summary}
        </p>
      ) : null}
      {check.status === 'failed' ? <ErrorPanel error={check.error} onRetry={() => check.device && void runCheck(check.device)} /> : null}
      {asking ? (
        <div role="alertdialog" aria-labelledby="show-all-question" className="confirm-box">
          <p id="show-all-question">{t('card.showAllConfirm')}</p>
          <button
            type="button"
            onClick={() => {
              setAsking(false);
              actions.setShowAllDrives(true);
            }}
          >
            {t('nav.next')}
          </button>
          <button type="button" onClick={() => setAsking(false)}>
            {t('flash.cancel')}
          </button>
        </div>
      ) : null}
    </div>
  );
}
