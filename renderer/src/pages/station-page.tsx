/**
 * The Station: the flow's image onto every card inserted while it runs, each its own flash job
 * (verify and eject on). Cards present at the start are listed as untouched; new ones that are not
 * safe, outside the size filter or not in the chosen reader are listed with why. A row per card, the tally, the speed of all
 * cards together, and the batch report as CSV or JSON. The logic is store/station.ts's.
 */
import { useEffect, useState, type ReactNode } from 'react';
import type { Drive } from '../../../electron/engine/drives/model';
import type { Refusal } from '../../../electron/engine/station/rules';
import { toCsv, toJson } from '../../../electron/engine/station/report-text';
import { CardRows } from '../components/card-rows';
import { ErrorPanel } from '../components/error-panel';
import { pluralKey, type Language, type Translator } from '../i18n/translate';
import { isActive, readersSeen, stationDrives, stationTally } from '../store/station';
import { useActions, useApp, useI18n } from '../store/store-context';
import { formatBytes } from '../view/format';
import { imageName } from '../view/image-name';
import { driveLabel, driveReasonText, driveReasons } from '../view/messages';

/** A size typed in decimal GB ("31.9", "31,9"); undefined when empty, null when not a size. */
export function parseGigabytes(text: string): number | undefined | null {
  const trimmed = text.trim().replace(',', '.');
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) && value >= 0 ? Math.round(value * 1e9) : null;
}

function refusalText(refusal: Refusal, drive: Drive, t: Translator, language: Language): string {
  switch (refusal.kind) {
    case 'unsafe':
      return t('station.skip.unsafe', { reasons: driveReasons(drive).map((r) => driveReasonText(r, language)).join(', ') });
    case 'below':
      return t('station.skip.below', { size: formatBytes(refusal.minBytes, language) });
    case 'above':
      return t('station.skip.above', { size: formatBytes(refusal.maxBytes, language) });
    case 'reader':
      return t('station.skip.reader', { path: refusal.readerPath ?? t('station.readerUnknown'), wanted: refusal.wanted });
  }
}

function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function StationPage(): ReactNode {
  const { t, language } = useI18n();
  const actions = useActions();
  const station = useApp((s) => s.station);
  const image = useApp((s) => s.flow.image);
  const board = useApp((s) => s.flow.board);
  const [minText, setMinText] = useState('');
  const [maxText, setMaxText] = useState('');
  const [readerText, setReaderText] = useState('');
  const drives = useApp((s) => s.drives);
  // The reader filter offers the readers of the drives listed now and of those the station saw.
  useEffect(() => void actions.refreshDrives(), [actions]);
  const readers = readersSeen([...(drives.status === 'ready' ? drives.value : []), ...stationDrives(station)]);
  const readerPath = readerText.trim();
  const minBytes = parseGigabytes(minText);
  const maxBytes = parseGigabytes(maxText);
  const active = isActive(station);
  const built = image?.kind === 'rootfs' || (image?.kind === 'catalog' && image.entry.kind === 'rootfs');
  const canStart = !active && image !== null && !built && minBytes !== null && maxBytes !== null;
  const tally = stationTally(station);
  const count = (n: number, one: Parameters<Translator>[0], other: Parameters<Translator>[0]): string => t(pluralKey(language, n, one, other), { count: n });
  const stamp = (): string => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const start = (): void => {
    void actions.startStation({
      ...(minBytes !== undefined && minBytes !== null ? { minBytes } : {}),
      ...(maxBytes !== undefined && maxBytes !== null ? { maxBytes } : {}),
      ...(readerPath !== '' ? { readerPath } : {}),
    });
  };

  return (
    <div className="page station-page" data-station={station.status}>
      <p>{t('station.intro')}</p>
      <dl className="facts">
        <dt>{t('station.image')}</dt>
        <dd>
          {image ? imageName(image) : t('station.noImage')}{' '}
          <button type="button" disabled={active} onClick={() => actions.goTo(board ? 'image' : 'board')}>
            {t('station.chooseImage')}
          </button>
        </dd>
        <dt>{t('station.board')}</dt>
        <dd>{board?.kind === 'board' ? board.board.name : t('board.generic')}</dd>
      </dl>
      {built ? <p className="choice-blocked">{t('station.buildBlocked')}</p> : null}
      <div className="station-filter">
        <label className="field">
          <span>{t('station.minSize')}</span>
          <input inputMode="decimal" value={minText} disabled={active} onChange={(e) => setMinText(e.target.value)} aria-invalid={minBytes === null} />
        </label>
        <label className="field">
          <span>{t('station.maxSize')}</span>
          <input inputMode="decimal" value={maxText} disabled={active} onChange={(e) => setMaxText(e.target.value)} aria-invalid={maxBytes === null} />
        </label>
        {minBytes === null || maxBytes === null ? <p className="choice-blocked">{t('station.badSize')}</p> : null}
        <label className="field">
          <span>{t('station.reader')}</span>
          <input list="station-readers" value={readerText} disabled={active} spellCheck={false} onChange={(e) => setReaderText(e.target.value)} aria-describedby="station-reader-hint" />
        </label>
        <datalist id="station-readers">
          {readers.map((r) => (
            <option key={r.path} value={r.path}>
              {[r.vendor, r.model, r.serial].filter((part) => part !== null).join(' ')}
            </option>
          ))}
        </datalist>
        <p id="station-reader-hint" className="muted">
          {t('station.readerHint')}
        </p>
      </div>
      <div className="button-row">
        <button type="button" className="primary" disabled={!canStart} onClick={start}>
          {t('station.start')}
        </button>
        <button type="button" disabled={station.status !== 'watching' && station.status !== 'starting'} onClick={() => actions.stopStation()}>
          {t('station.stop')}
        </button>
      </div>
      {station.status !== 'idle' ? (
        <p role="status" className="station-status">
          {t(`station.status.${station.status}`)}
        </p>
      ) : null}
      {station.error ? <ErrorPanel error={station.error} /> : null}
      {station.status !== 'idle' && station.status !== 'starting' && !station.error ? (
        <>
          <h2>{t('station.untouched')}</h2>
          {station.untouched.length === 0 ? (
            <p className="muted">{t('station.untouchedNone')}</p>
          ) : (
            <ul className="station-untouched">
              {station.untouched.map((d) => (
                <li key={d.device} data-device={d.device}>
                  {driveLabel(d, t)} ({d.device}, {formatBytes(d.sizeBytes, language)})
                </li>
              ))}
            </ul>
          )}
          <p className="station-tally" aria-live="polite">
            {count(tally.ok, 'station.tally.ok.one', 'station.tally.ok.other')} · {count(tally.failed, 'station.tally.failed.one', 'station.tally.failed.other')} ·{' '}
            {count(tally.running, 'station.tally.running.one', 'station.tally.running.other')}
          </p>
          <CardRows caption={t('station.cards')} rows={station.cards.map((c) => ({ id: c.jobId, drive: c.drive, slot: c.slot, error: c.error }))} />
          {station.skipped.length > 0 ? (
            <>
              <h2>{t('station.skipped')}</h2>
              <ul className="station-skipped">
                {station.skipped.map((s) => (
                  <li key={s.drive.device} data-device={s.drive.device}>
                    {s.drive.device}: {refusalText(s.refusal, s.drive, t, language)}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          <div className="button-row">
            <button type="button" disabled={station.rows.length === 0} onClick={() => download(`cardsmith-station-${stamp()}.csv`, 'text/csv', toCsv(station.rows))}>
              {t('station.saveCsv')}
            </button>
            <button type="button" disabled={station.rows.length === 0} onClick={() => download(`cardsmith-station-${stamp()}.json`, 'application/json', toJson(station.rows))}>
              {t('station.saveJson')}
            </button>
          </div>
        </>
      ) : null}
    </div>
  );
}
