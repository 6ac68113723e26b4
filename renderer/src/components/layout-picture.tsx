/**
 * The card drawn as a bar: table, loader slots and partitions (each partition its own colour, the
 * loader hatched), boot area enlarged (see view/layout). The legend gives human sizes; the exact
 * byte offsets in hex are on hover.
 */
import type { ReactNode } from 'react';
import { formatBinary, hex } from '../view/format';
import { layoutSegments, type LayoutInput, type Segment, type SegmentKind } from '../view/layout';
import { useI18n } from '../store/store-context';
import type { MessageKey } from '../i18n/translate';

const KIND_KEYS: Readonly<Record<SegmentKind, MessageKey>> = {
  table: 'layout.table',
  loader: 'layout.loader',
  partition: 'layout.partition',
  free: 'layout.free',
};

/** Partitions take turns through four colours, so neighbours never look alike. */
function classOf(segment: Segment, partitionIndex: number): string {
  return segment.kind === 'partition' ? `segment segment-partition p${(partitionIndex % 4) + 1}` : `segment segment-${segment.kind}`;
}

export function LayoutPicture({ input, title }: { input: LayoutInput; title: string }): ReactNode {
  const { t, language } = useI18n();
  const segments = layoutSegments(input);
  let partition = -1;
  const drawn = segments.map((segment) => {
    if (segment.kind === 'partition') partition += 1;
    return { segment, className: classOf(segment, partition) };
  });
  const name = (s: Segment): string => `${t(KIND_KEYS[s.kind])}${s.label ? ` “${s.label}”` : ''}`;
  const range = (s: Segment): string => `${hex(s.start)} – ${hex(s.end)}`;
  return (
    <figure className="layout-picture">
      <figcaption>{title}</figcaption>
      <div className="layout-bar" role="img" aria-label={`${t('layout.picture')}: ${title}`}>
        {drawn.map(({ segment: s, className }) => (
          <span key={`${s.kind}-${s.start}-${s.end}`} className={className} style={{ left: `${s.leftPct}%`, width: `${s.widthPct}%` }} title={`${name(s)}: ${range(s)}`} />
        ))}
      </div>
      <ul className="layout-legend">
        {drawn
          .filter(({ segment }) => segment.kind !== 'free')
          .map(({ segment: s, className }) => (
            <li key={`${s.kind}-${s.start}-${s.end}`}>
              <span className={`swatch ${className.replace("segment ", "")}`} aria-hidden="true" />
              {name(s)} —{' '}
              <abbr title={range(s)}>
                {t('layout.span', { size: formatBinary(s.end - s.start, language), start: formatBinary(s.start, language), end: formatBinary(s.end, language) })}
              </abbr>
            </li>
          ))}
      </ul>
      <p className="layout-note">{t('layout.scale')}</p>
    </figure>
  );
}
