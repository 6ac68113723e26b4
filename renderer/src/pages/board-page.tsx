/** Step 1: the board, searchable and grouped by vendor and SoC, or "generic — no bootloader". */
import { useEffect, type ReactNode } from 'react';
import type { Board } from '../../../electron/engine/boards/model';
import { ErrorPanel } from '../components/error-panel';
import { filterBoards, groupBoards } from '../view/boards';
import { useActions, useApp, useI18n } from '../store/store-context';
import { boardId } from '../store/flow';

export function BoardPage(): ReactNode {
  const { t } = useI18n();
  const actions = useActions();
  const boards = useApp((s) => s.boards);
  const query = useApp((s) => s.boardQuery);
  const chosen = useApp((s) => s.flow.board);
  const chosenId = chosen?.kind === 'generic' ? 'generic' : boardId(chosen);

  useEffect(() => {
    if (boards.status === 'idle') void actions.loadBoards();
  }, [boards.status, actions]);

  const all: readonly Board[] = boards.status === 'ready' ? boards.value : [];
  const groups = groupBoards(filterBoards(all, query));

  return (
    <div className="page board-page">
      <label className="field">
        <span>{t('board.search')}</span>
        <input type="search" value={query} placeholder={t('board.searchPlaceholder')} onChange={(e) => actions.setBoardQuery(e.target.value)} />
      </label>
      <div className="board-list" role="radiogroup" aria-label={t('step.board')}>
        <label className={`choice ${chosenId === 'generic' ? 'chosen' : ''}`}>
          <input type="radio" name="board" checked={chosenId === 'generic'} onChange={() => actions.chooseBoard({ kind: 'generic' })} />
          <span className="choice-title">{t('board.generic')}</span>
          <span className="choice-sub">{t('board.genericHint')}</span>
        </label>
        {boards.status === 'loading' ? <p aria-live="polite">{t('board.loading')}</p> : null}
        {boards.status === 'failed' ? <ErrorPanel error={boards.error} onRetry={() => void actions.loadBoards()} /> : null}
        {boards.status === 'ready' && groups.length === 0 && query ? <p>{t('board.none', { query })}</p> : null}
        {groups.map((vendor) => (
          <fieldset key={vendor.vendor} className="vendor-group">
            <legend>{vendor.vendor}</legend>
            {vendor.socs.map((soc) => (
              <div key={soc.soc} className="soc-group" role="group" aria-label={`${vendor.vendor} ${soc.soc}`}>
                <h4>{soc.soc}</h4>
                {soc.boards.map((board) => (
                  <label key={board.id} className={`choice ${chosenId === board.id ? 'chosen' : ''}`}>
                    <input type="radio" name="board" value={board.id} checked={chosenId === board.id} onChange={() => actions.chooseBoard({ kind: 'board', board })} />
                    <span className="choice-title">{board.name}</span>
                    <span className="choice-sub">
                      {t('board.arch')}: {board.arch} · {t('board.bootMethod')}: {t(`bootMethod.${board.bootMethod}`)}
                    </span>
                    {board.uncertain.length > 0 ? (
                      <span className="choice-warning" title={board.uncertain.join('\n')}>
                        {t('board.uncertain')}
                      </span>
                    ) : null}
                  </label>
                ))}
              </div>
            ))}
          </fieldset>
        ))}
      </div>
    </div>
  );
}
