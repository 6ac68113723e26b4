/**
 * Drag and drop anywhere on the window, from any step: an image file becomes the chosen image, a
 * rootfs tarball the rootfs to build, and the Image step opens to show it. A file dropped from a
 * file manager arrives, in a browser, as a file:// URL in text/uri-list; in Electron the File's
 * path comes from the preload (pathForFile), which is tried first.
 */
import { useState, type DragEvent, type ReactNode } from 'react';
import { useActions, useI18n } from '../store/store-context';

export function pathFromDrop(uriList: string): string | null {
  const first = uriList.split(/\r?\n/).find((line) => line && !line.startsWith('#'));
  if (!first?.startsWith('file://')) return null;
  const path = decodeURIComponent(new URL(first).pathname);
  return /^\/[A-Za-z]:\//.test(path) ? path.slice(1).replace(/\//g, '\\') : path;
}

/** A root filesystem tarball (built into an image), as opposed to a finished disk image. */
export function isRootfsTarball(path: string): boolean {
  return /\.(tar|tgz|tar\.(gz|xz|zst|bz2))$/i.test(path);
}

const carriesFiles = (event: DragEvent): boolean => Array.from(event.dataTransfer?.types ?? []).some((type) => type === 'Files' || type === 'text/uri-list');

export function WindowDrop({ children }: { children: ReactNode }): ReactNode {
  const { t } = useI18n();
  const actions = useActions();
  const [over, setOver] = useState(false);
  return (
    <div
      className="app"
      onDragOver={(event) => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        setOver(true);
      }}
      onDragLeave={(event) => {
        if (event.relatedTarget === null) setOver(false);
      }}
      onDrop={(event) => {
        setOver(false);
        event.preventDefault();
        const file = event.dataTransfer.files[0];
        const path = (file ? actions.pathForDroppedFile(file) : null) ?? pathFromDrop(event.dataTransfer.getData('text/uri-list'));
        if (path) actions.dropImage(path, isRootfsTarball(path) ? 'rootfs' : 'file');
      }}
    >
      {children}
      {over ? <div className="drop-overlay">{t('drop.here')}</div> : null}
    </div>
  );
}
