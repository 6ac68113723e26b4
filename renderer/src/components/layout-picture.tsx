/** The card drawn as a bar: table, loader slots and partitions, boot area enlarged (see view/layout). */
import type { ReactNode } from 'react';
import { formatOffset } from '../view/format';
import { layoutSegments, type LayoutInput, type SegmentKind } from '../view/layout';
import { useI18n } from '../store/store-context';
import type { MessageKey } from '../i18n/translate';

const KIND_KEYS: Readonly<Record<SegmentKind, MessageKey>> = {
  table: 'layout.table',
  loader: 'layout.loader',
  partition: 'layout.partition',
  free: 'layout.free',
};

export function LayoutPicture({ input, title }: { input: LayoutInput; title: string }): ReactNode {
  const { t } = useI18n();
  const segments = layoutSegments(input);
  return (
    <figure className="layout-picture">
      <figcaption>{title}</figcaption>
      <div className="layout-bar" role="img" aria-label={`${t('layout.picture')}: ${title}`}>
        {segments.map((s) => (
          <span
            key={`${s.kind}-${s.start}-${s.end}`}
            className={`segment segment-${s.kind}`}
            style={{ left: `${s.leftPct}%`, width: `${s.widthPct}%` }}
            title={t('layout.at', { label: s.label || t(KIND_KEYS[s.kind]), start: formatOffset(s.start), end: formatOffset(s.end) })}
          />
        ))}
      </div>
      <ul className="layout-legend">
        {segments
          .filter((s) => s.kind !== 'free')
          .map((s) => (
            <li key={`${s.kind}-${s.start}-${s.end}`}>
              <span className={`swatch segment-${s.kind}`} aria-hidden="true" />
              {t(KIND_KEYS[s.kind])} {s.label ? `“${s.label}”` : ''} — {formatOffset(s.start)} … {formatOffset(s.end)}
            </li>
          ))}
      </ul>
      <p className="layout-note">{t('layout.scale')}</p>
    </figure>
  );
}
