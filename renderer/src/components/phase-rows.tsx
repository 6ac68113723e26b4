/** One progress bar per phase; each row has a fixed height, so updates never move the layout. */
import type { ReactNode } from 'react';
import { rowFraction, type PhaseRow } from '../store/job';
import { formatBytes, formatEta, formatPercent, formatSpeed } from '../view/format';
import { useI18n } from '../store/store-context';
import { phaseDetailText } from '../view/messages';

export function PhaseRows({ rows }: { rows: readonly PhaseRow[] }): ReactNode {
  const { t, language } = useI18n();
  return (
    <ol className="phase-rows">
      {rows.map((row) => {
        const fraction = rowFraction(row);
        const label = t(`phase.${row.phase}`);
        return (
          <li key={row.phase} className={`phase-row phase-${row.status}`} data-phase={row.phase} data-status={row.status}>
            <span className="phase-name">{label}</span>
            <progress
              aria-label={label}
              max={1}
              {...(fraction === null ? {} : { value: fraction })}
              aria-valuetext={fraction === null ? t(`phaseStatus.${row.status}`) : formatPercent(fraction, language)}
            />
            <span className="phase-status">{t(`phaseStatus.${row.status}`)}</span>
            <span className="phase-numbers">
              {row.status === 'running' && row.bytesDone > 0
                ? `${formatBytes(row.bytesDone, language)} / ${formatBytes(row.bytesTotal, language)} · ${t('flash.speed', { speed: formatSpeed(row.bytesPerSecond, language) })} · ${t('flash.eta', { eta: formatEta(row.etaSeconds) })}`
                : phaseDetailText(row, language)}
            </span>
          </li>
        );
      })}
    </ol>
  );
}
