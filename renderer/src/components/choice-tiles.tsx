/**
 * The flow in one glance: Board · OS · Card as large tiles, each showing the choice made (or what
 * to choose), each opening its step. They replace a numbered step list: what matters to a person
 * is what is chosen, not which step number they are on.
 */
import { Cpu, Disc3, MemoryStick } from 'lucide-react';
import type { ReactNode } from 'react';
import { pluralKey } from '../i18n/translate';
import { canEnter, type FlowStep } from '../store/flow';
import { useActions, useApp, useI18n } from '../store/store-context';
import { formatBytes } from '../view/format';
import { driveLabel } from '../view/messages';
import { imageName } from '../view/image-name';
import { BoardArt } from './board-art';
import { CatalogIcon } from './catalog-icon';

/** A file or URL is known by its name; the full path is in the tile's tooltip and on Review. */
function lastSegment(text: string): string {
  return text.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || text;
}

interface Tile {
  readonly step: FlowStep;
  readonly art: ReactNode;
  readonly label: string;
  readonly value: string | null;
  readonly title?: string;
  readonly placeholder: string;
  readonly sub: string;
}

export function ChoiceTiles({ current }: { current: FlowStep }): ReactNode {
  const { t, language } = useI18n();
  const actions = useActions();
  const flowState = useApp((s) => s.flow);
  const jobRunning = useApp((s) => s.job?.status === 'running');
  const { board, image, drive, cards } = flowState;
  const tiles: readonly Tile[] = [
    {
      step: 'board',
      art: board?.kind === 'board' ? <BoardArt family={board.board.family} /> : <Cpu className="icon" aria-hidden="true" />,
      label: t('step.board'),
      value: board ? (board.kind === 'board' ? board.board.name : t('board.generic')) : null,
      placeholder: t('tile.chooseBoard'),
      sub: board?.kind === 'board' ? `${board.board.soc} · ${board.board.arch}` : '',
    },
    {
      step: 'image',
      art: image?.kind === 'catalog' ? <CatalogIcon entry={image.entry} /> : <Disc3 className="icon" aria-hidden="true" />,
      label: t('tile.os'),
      value: image ? (image.kind === 'catalog' ? image.entry.name : lastSegment(imageName(image))) : null,
      title: image ? imageName(image) : undefined,
      placeholder: t('tile.chooseImage'),
      sub: image ? t(`image.tab.${image.kind}`) : '',
    },
    {
      step: 'card',
      art: <MemoryStick className="icon" aria-hidden="true" />,
      label: t('step.card'),
      value: cards.length > 1 ? t(pluralKey(language, cards.length, 'many.chosen.one', 'many.chosen.other'), { count: cards.length }) : drive ? driveLabel(drive, t) : null,
      placeholder: t('tile.chooseCard'),
      sub: cards.length > 1 ? cards.map((d) => d.device).join(', ') : drive ? `${formatBytes(drive.sizeBytes, language)} · ${drive.device}` : '',
    },
  ];
  return (
    <nav className="tiles" aria-label={t('nav.steps')}>
      {tiles.map((tile) => (
        <button
          key={tile.step}
          type="button"
          className="tile"
          data-step={tile.step}
          aria-current={tile.step === current ? 'step' : undefined}
          disabled={tile.step !== current && (jobRunning || !canEnter(flowState, tile.step))}
          onClick={() => actions.goTo(tile.step)}
        >
          <span className="tile-art">{tile.art}</span>
          <span className="tile-label">{tile.label}</span>
          <span className={tile.value ? 'tile-value' : 'tile-value empty'} title={tile.title ?? undefined}>
            {tile.value ?? tile.placeholder}
          </span>
          <span className="tile-sub">{tile.sub}</span>
        </button>
      ))}
    </nav>
  );
}
