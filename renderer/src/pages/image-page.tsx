/** Step 2: the image — from the board's catalog, a local file, a URL, or built from a rootfs. */
import { useEffect, useState, type ReactNode } from 'react';
import { CloudOff, RefreshCw } from 'lucide-react';
import { CatalogIcon } from '../components/catalog-icon';
import { catalogGroups, isRecommended } from '../view/catalog';
import { ErrorPanel } from '../components/error-panel';
import { Tabs } from '../components/tabs';
import type { ImageChoice, RootSize } from '../store/flow';
import { isHttpUrl } from '../store/settings';
import { useActions, useApp, useI18n } from '../store/store-context';
import { formatBytes, formatDate } from '../view/format';

type TabKey = ImageChoice['kind'];

export function ImagePage(): ReactNode {
  const { t } = useI18n();
  const image = useApp((s) => s.flow.image);
  const [tab, setTab] = useState<TabKey>(image?.kind ?? 'catalog');
  const droppedKind = image?.kind === 'file' || image?.kind === 'rootfs' ? image.kind : null;
  useEffect(() => {
    if (droppedKind) setTab(droppedKind);
  }, [droppedKind]);
  const tabs = (['catalog', 'file', 'url', 'rootfs'] as const).map((key) => ({ key, label: t(`image.tab.${key}`) }));
  return (
    <div className="page image-page">
      <Tabs tabs={tabs} active={tab} onSelect={setTab} label={t('image.tabs')}>
        {tab === 'catalog' ? <CatalogTab /> : null}
        {tab === 'file' ? <FileTab /> : null}
        {tab === 'url' ? <UrlTab /> : null}
        {tab === 'rootfs' ? <RootfsTab /> : null}
      </Tabs>
    </div>
  );
}

function CatalogTab(): ReactNode {
  const { t, language } = useI18n();
  const actions = useActions();
  const catalog = useApp((s) => s.catalog);
  const board = useApp((s) => s.flow.board);
  const image = useApp((s) => s.flow.image);
  if (catalog.status === 'loading' || catalog.status === 'idle') return <p aria-live="polite">{t('image.catalog.loading')}</p>;
  if (catalog.status === 'failed') return <ErrorPanel error={catalog.error} onRetry={() => actions.reloadCatalog()} />;
  const chosenId = image?.kind === 'catalog' ? image.entry.id : null;
  const canBuild = board?.kind === 'board';
  const groups = catalogGroups(catalog.value.entries);
  return (
    <>
      {catalog.value.problems.length > 0 ? (
        <div className="banner" role="status">
          <CloudOff className="icon" aria-hidden="true" />
          <p>
            {t('image.catalog.unreachable')} {catalog.value.problems.join('; ')}
          </p>
          <button type="button" onClick={() => actions.reloadCatalog()}>
            <RefreshCw className="icon" aria-hidden="true" />
            {t('error.retry')}
          </button>
        </div>
      ) : null}
      {catalog.value.entries.length === 0 ? <p>{t('image.catalog.empty')}</p> : null}
      {groups.map((group) => (
        <div key={group.category} role="radiogroup" aria-label={group.category || t('image.tab.catalog')} className="catalog-list">
          {group.category ? <h2 className="list-heading">{group.category}</h2> : null}
          {group.entries.map((entry) => (
            <label key={entry.id} className={`choice ${chosenId === entry.id ? 'chosen' : ''}`}>
              <input
                type="radio"
                name="catalog"
                checked={chosenId === entry.id}
                disabled={entry.kind === 'rootfs' && !canBuild}
                onChange={() => actions.chooseImage({ kind: 'catalog', entry })}
              />
              <span className="choice-art">
                <CatalogIcon entry={entry} />
              </span>
              <span className="choice-title">{entry.name}</span>
              {entry.description ? <span className="choice-desc">{entry.description}</span> : null}
              <span className="choice-sub">
                {isRecommended(entry) ? `${t('image.catalog.recommended')} · ` : ''}
                {t(`image.catalog.kind.${entry.kind}`)}
                {entry.downloadSize !== undefined ? ` · ${t('image.catalog.size', { size: formatBytes(entry.downloadSize, language) })}` : ''}
                {entry.releaseDate ? ` · ${t('image.catalog.date', { date: formatDate(entry.releaseDate, language) })}` : ''}
                {entry.cached ? ` · ${t('image.catalog.cached')}` : ''}
              </span>
              {entry.kind === 'rootfs' && !canBuild ? <span className="choice-blocked">{t('image.rootfs.needsBoard')}</span> : null}
            </label>
          ))}
        </div>
      ))}
    </>
  );
}

function FileTab(): ReactNode {
  const { t, language } = useI18n();
  const actions = useActions();
  const image = useApp((s) => s.flow.image);
  const info = useApp((s) => s.imageInfo);
  const [typed, setTyped] = useState(image?.kind === 'file' ? image.path : '');
  // A drop anywhere on the window chooses the file (see WindowDrop); the field follows it.
  useEffect(() => {
    if (image?.kind === 'file') setTyped(image.path);
  }, [image]);
  return (
    <div className="file-tab">
      <div className="drop-zone">
        <button type="button" onClick={() => void actions.chooseImageFile().then((p) => p && setTyped(p))}>
          {t('image.file.choose')}
        </button>
        <span>{t('image.file.drop')}</span>
      </div>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (typed.trim()) actions.chooseImage({ kind: 'file', path: typed.trim() });
        }}
      >
        <label className="field">
          <span>{t('image.file.path')}</span>
          <input value={typed} onChange={(e) => setTyped(e.target.value)} spellCheck={false} />
        </label>
        <button type="submit">{t('image.file.use')}</button>
      </form>
      {image?.kind === 'file' ? <p className="chosen-line">{t('image.chosen', { name: image.path })}</p> : null}
      {info.status === 'loading' ? <p aria-live="polite">{t('image.file.inspecting')}</p> : null}
      {info.status === 'failed' ? <ErrorPanel error={info.error} /> : null}
      {info.status === 'ready' ? (
        <dl className="facts" aria-label={t('image.file.detected')}>
          {info.value.image ? (
            <>
              <dt>{t('image.file.compression')}</dt>
              <dd>{info.value.image.compression}</dd>
              <dt>{t('image.file.size')}</dt>
              <dd>
                {formatBytes(info.value.image.sizeBytes, language)} {info.value.image.sizeIsEstimate ? t('image.file.estimate') : ''}
              </dd>
            </>
          ) : null}
          <dt>{t('image.file.table')}</dt>
          <dd>{info.value.inspection.table}</dd>
          <dt>{t('image.file.partitions')}</dt>
          <dd>{info.value.inspection.partitions.length}</dd>
          <dt>{t('image.file.loader')}</dt>
          <dd>{info.value.inspection.loaders.map((l) => l.kind).join(', ') || t('image.file.noLoader')}</dd>
        </dl>
      ) : null}
    </div>
  );
}

function UrlTab(): ReactNode {
  const { t } = useI18n();
  const actions = useActions();
  const image = useApp((s) => s.flow.image);
  const [url, setUrl] = useState(image?.kind === 'url' ? image.url : '');
  const [touched, setTouched] = useState(false);
  const valid = isHttpUrl(url.trim());
  return (
    <form
      className="inline-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        setTouched(true);
        if (valid) actions.chooseImage({ kind: 'url', url: url.trim() });
      }}
    >
      <label className="field">
        <span>{t('image.url.label')}</span>
        <input type="url" value={url} onChange={(e) => setUrl(e.target.value)} aria-invalid={touched && !valid} aria-describedby="url-error" />
      </label>
      <button type="submit">{t('image.url.use')}</button>
      <p id="url-error" className="field-error" aria-live="polite">
        {touched && !valid ? t('image.url.invalid') : ''}
      </p>
      {image?.kind === 'url' ? <p className="chosen-line">{t('image.chosen', { name: image.url })}</p> : null}
    </form>
  );
}

const MiB = 1024 * 1024;

function RootfsTab(): ReactNode {
  const { t } = useI18n();
  const actions = useActions();
  const image = useApp((s) => s.flow.image);
  const [rootfs, setRootfs] = useState(image?.kind === 'rootfs' ? image.rootfs : '');
  useEffect(() => {
    if (image?.kind === 'rootfs') setRootfs(image.rootfs);
  }, [image]);
  const [mode, setMode] = useState<RootSize['mode']>(image?.kind === 'rootfs' ? image.rootSize.mode : 'minimal');
  const [fixedMiB, setFixedMiB] = useState(1024);
  const [loaderFrom, setLoaderFrom] = useState(image?.kind === 'rootfs' ? (image.loaderFrom ?? '') : '');
  const board = useApp((s) => s.flow.board);
  if (board?.kind === 'generic') return <p className="muted">{t('image.rootfs.needsBoard')}</p>;
  const rootSize = (): RootSize => (mode === 'fixed' ? { mode, bytes: Math.max(1, Math.round(fixedMiB)) * MiB } : { mode });
  return (
    <form
      className="stack-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (rootfs.trim()) {
          actions.chooseImage({ kind: 'rootfs', rootfs: rootfs.trim(), rootSize: rootSize(), ...(loaderFrom.trim() ? { loaderFrom: loaderFrom.trim() } : {}) });
        }
      }}
    >
      <label className="field">
        <span>{t('image.rootfs.label')}</span>
        <input value={rootfs} onChange={(e) => setRootfs(e.target.value)} spellCheck={false} />
      </label>
      <fieldset>
        <legend>{t('image.rootfs.size')}</legend>
        {(['minimal', 'fill', 'fixed'] as const).map((m) => (
          <label key={m} className="radio-line">
            <input type="radio" name="root-size" checked={mode === m} onChange={() => setMode(m)} />
            {t(`image.rootfs.${m}`)}
          </label>
        ))}
        {mode === 'fixed' ? (
          <label className="field">
            <span>{t('image.rootfs.fixedMiB')}</span>
            <input type="number" min={1} value={fixedMiB} onChange={(e) => setFixedMiB(Number(e.target.value))} />
          </label>
        ) : null}
      </fieldset>
      {board?.kind === 'board' && board.board.bootMethod !== 'none' ? (
        <label className="field">
          <span>{t('image.rootfs.loaderFrom')}</span>
          <input value={loaderFrom} onChange={(e) => setLoaderFrom(e.target.value)} spellCheck={false} />
        </label>
      ) : null}
      <button type="submit">{t('image.rootfs.use')}</button>
      {image?.kind === 'rootfs' ? <p className="chosen-line">{t('image.chosen', { name: image.rootfs })}</p> : null}
    </form>
  );
}
