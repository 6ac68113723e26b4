/**
 * One row per card of a multi-card job or the station: the card, its state (waiting, writing %,
 * verifying %, done ✓, failed ✗ with the translated reason), a bar and its speed, then the
 * speed of all cards together. A row re-renders only when its own slot changed.
 */
import { memo, type ReactNode } from 'react';
import type { Drive } from '../../../electron/engine/drives/model';
import type { ErrorInfo } from '../../../electron/engine/errors';
import type { Slot } from '../../../electron/engine/station/slots';
import type { Language, Translator } from '../i18n/translate';
import { aggregateSpeed } from '../store/station';
import { useI18n } from '../store/store-context';
import { formatBytes, formatPercent, formatSpeed } from '../view/format';
import { driveLabel, errorWords } from '../view/messages';

export interface CardRow {
  /** Stable per card job (a device can hold several cards in turn at a station). */
  readonly id: string;
  readonly drive: Drive;
  readonly slot: Slot;
  readonly error: ErrorInfo | null;
}

/** A failed card's reason: the cause in the UI language, then the engine's words (they name the offset). */
/** Why a card failed, in the UI language when the error came keyed (the English message otherwise). */
export function failureText(error: ErrorInfo | null, fallback: string | null, t: Translator, language: Language): string {
  if (!error) return fallback ?? '';
  const words = errorWords(error, language);
  return [`${t(`cause.${error.cause}`)}: ${words.message ?? error.message}`, ...words.notes].join(' ');
}

const Row = memo(function Row({ drive, slot, error }: Omit<CardRow, 'id'>): ReactNode {
  const { t, language } = useI18n();
  const percent = formatPercent((slot.percent ?? 0) / 100, language);
  const state =
    slot.state === 'failed' ? t('station.state.failed', { reason: failureText(error, slot.error, t, language) }) : t(`station.state.${slot.state}`, { percent });
  const label = `${driveLabel(drive, t)} (${drive.device}, ${formatBytes(drive.sizeBytes, language)})`;
  return (
    <tr data-device={drive.device} data-state={slot.state} className={`card-row card-${slot.state}`}>
      <th scope="row">{label}</th>
      <td>
        {/* Indeterminate only while the card waits; a card that failed before its first percent shows an empty bar. */}
        <progress aria-label={label} max={100} {...(slot.percent !== null ? { value: slot.percent } : slot.state === 'failed' ? { value: 0 } : {})} />
        <span className="card-state">{state}</span>
      </td>
      <td className="card-speed">{slot.bytesPerSecond ? formatSpeed(slot.bytesPerSecond, language) : ''}</td>
    </tr>
  );
});

export function CardRows({ rows, caption }: { rows: readonly CardRow[]; caption: string }): ReactNode {
  const { t, language } = useI18n();
  return (
    <>
      <table className="card-rows">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t('station.col.card')}</th>
            <th scope="col">{t('station.col.state')}</th>
            <th scope="col">{t('station.col.speed')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <Row key={row.id} drive={row.drive} slot={row.slot} error={row.error} />
          ))}
        </tbody>
      </table>
      <p className="aggregate-speed">{t('station.speed', { speed: formatSpeed(aggregateSpeed(rows.map((r) => r.slot)), language) })}</p>
    </>
  );
}
