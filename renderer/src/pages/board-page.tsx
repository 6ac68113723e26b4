/**
 * Step 1: the board. Search and filters (vendor, SoC family, architecture); the boards used lately
 * and popular ones first; then every board grouped by vendor and SoC, each with its family's
 * drawing; "not yet confirmed on hardware" stays visible on the boards it applies to.
 */
import { useEffect, useState, type ReactNode } from 'react';
import type { Board } from '../../../electron/engine/boards/model';
import { BoardArt } from '../components/board-art';
import { ErrorPanel } from '../components/error-panel';
import { applyFilters, filterBoards, filterOptions, groupBoards, NO_FILTERS, suggestedBoards, type BoardFilters } from '../view/boards';
import { useActions, useApp, useI18n } from '../store/store-context';
import { boardId } from '../store/flow';

function BoardChoiceRow({ board, chosen, name }: { board: Board; chosen: boolean; name: string }): ReactNode {
  const { t } = useI18n();
  const actions = useActions();
  return (
    <label className={`choice ${chosen ? 'chosen' : ''}`}>
      <input type="radio" name={name} value={board.id} checked={chosen} onChange={() => actions.chooseBoard({ kind: 'board', board })} />
      <span className="choice-art">
        <BoardArt family={board.family} />
      </span>
      <span className="choice-title">{board.name}</span>
      <span className="choice-sub">
        {board.soc} · {t('board.arch')}: {board.arch} · {t('board.bootMethod')}: {t(`bootMethod.${board.bootMethod}`)}
      </span>
      {board.uncertain.length > 0 ? (
        <span className="choice-warning" title={board.uncertain.join('\n')}>
          {t('board.uncertain')}
        </span>
      ) : null}
    </label>
  );
}

export function BoardPage(): ReactNode {
  const { t } = useI18n();
  const actions = useActions();
  const boards = useApp((s) => s.boards);
  const query = useApp((s) => s.boardQuery);
  const recent = useApp((s) => s.recentBoards);
  const chosen = useApp((s) => s.flow.board);
  const chosenId = chosen?.kind === 'generic' ? 'generic' : boardId(chosen);
  const [filters, setFilters] = useState<BoardFilters>(NO_FILTERS);

  useEffect(() => {
    if (boards.status === 'idle') void actions.loadBoards();
  }, [boards.status, actions]);

  const all: readonly Board[] = boards.status === 'ready' ? boards.value : [];
  const shown = applyFilters(filterBoards(all, query), filters);
  const groups = groupBoards(shown);
  const suggested = query || filters !== NO_FILTERS ? [] : suggestedBoards(all, recent);
  const filter = (key: keyof BoardFilters, label: string): ReactNode => (
    <div className="field">
      <label htmlFor={`board-filter-${key}`}>{label}</label>
      <select id={`board-filter-${key}`} value={filters[key]} onChange={(e) => setFilters({ ...filters, [key]: e.target.value })}>
        <option value="">{t('board.filter.all')}</option>
        {filterOptions(all, key).map((value) => (
          <option key={value} value={value}>
            {value}
          </option>
        ))}
      </select>
    </div>
  );

  return (
    <div className="page board-page">
      <div className="filters">
        <label className="field search">
          <span>{t('board.search')}</span>
          <input type="search" value={query} placeholder={t('board.searchPlaceholder')} onChange={(e) => actions.setBoardQuery(e.target.value)} />
        </label>
        {filter('vendor', t('board.filter.vendor'))}
        {filter('family', t('board.filter.family'))}
        {filter('arch', t('board.arch'))}
      </div>
      {suggested.length > 0 ? (
        <section className="suggested" aria-labelledby="suggested-boards">
          <h2 id="suggested-boards" className="list-heading">
            {t('board.suggested')}
          </h2>
          <div className="chips">
            {suggested.map((board) => (
              <button key={board.id} type="button" className={chosenId === board.id ? 'chip chosen' : 'chip'} aria-pressed={chosenId === board.id} onClick={() => actions.chooseBoard({ kind: 'board', board })}>
                <BoardArt family={board.family} />
                {board.name}
              </button>
            ))}
          </div>
        </section>
      ) : null}
      <div className="board-list" role="radiogroup" aria-label={t('step.board')}>
        <label className={`choice ${chosenId === 'generic' ? 'chosen' : ''}`}>
          <input type="radio" name="board" checked={chosenId === 'generic'} onChange={() => actions.chooseBoard({ kind: 'generic' })} />
          <span className="choice-art">
            <BoardArt family="generic" />
          </span>
          <span className="choice-title">{t('board.generic')}</span>
          <span className="choice-sub">{t('board.genericHint')}</span>
        </label>
        {boards.status === 'loading' ? <p aria-live="polite">{t('board.loading')}</p> : null}
        {boards.status === 'failed' ? <ErrorPanel error={boards.error} onRetry={() => void actions.loadBoards()} /> : null}
        {boards.status === 'ready' && groups.length === 0 ? <p>{t('board.none', { query })}</p> : null}
        {groups.map((vendor) => (
          <fieldset key={vendor.vendor} className="vendor-group">
            <legend>{vendor.vendor}</legend>
            {vendor.socs.map((soc) => (
              <div key={soc.soc} className="soc-group" role="group" aria-label={`${vendor.vendor} ${soc.soc}`}>
                <h2>{soc.soc}</h2>
                {soc.boards.map((board) => (
                  <BoardChoiceRow key={board.id} board={board} chosen={chosenId === board.id} name="board" />
                ))}
              </div>
            ))}
          </fieldset>
        ))}
      </div>
    </div>
  );
}
