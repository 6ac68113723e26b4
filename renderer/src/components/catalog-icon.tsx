/**
 * An OS logo from the catalog (os_list `icon`) when the entry carries one the window may show
 * (the page's CSP allows data: and same-origin images); otherwise a drawn disc, so an offline or
 * icon-less catalog still looks complete.
 */
import { Disc3, Package } from 'lucide-react';
import { useState, type ReactNode } from 'react';
import type { CatalogEntry } from '../../../electron/engine/sources/model';

export function iconOf(entry: CatalogEntry): string | null {
  const icon = (entry as { icon?: unknown }).icon;
  return typeof icon === 'string' && /^(data:image\/|\.?\/|[^:]+$)/.test(icon) ? icon : null;
}

export function CatalogIcon({ entry }: { entry: CatalogEntry }): ReactNode {
  const [broken, setBroken] = useState(false);
  const icon = iconOf(entry);
  if (icon && !broken) return <img className="icon catalog-logo" src={icon} alt="" onError={() => setBroken(true)} />;
  return entry.kind === 'rootfs' ? <Package className="icon" aria-hidden="true" /> : <Disc3 className="icon" aria-hidden="true" />;
}
