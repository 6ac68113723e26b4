/**
 * The OS list as a person scans it: grouped by the catalog's categories (os_list folders) when
 * entries carry one, the board vendor's recommended images first within each group. Both fields
 * are optional in the contract; entries without them keep the catalog's order.
 */
import type { CatalogEntry } from '../../../electron/engine/sources/model';

export interface CatalogGroup {
  readonly category: string;
  readonly entries: readonly CatalogEntry[];
}

export function categoryOf(entry: CatalogEntry): string {
  const category = (entry as { category?: unknown }).category;
  return typeof category === 'string' ? category : '';
}

export function isRecommended(entry: CatalogEntry): boolean {
  return (entry as { recommended?: unknown }).recommended === true;
}

export function catalogGroups(entries: readonly CatalogEntry[]): readonly CatalogGroup[] {
  const groups = new Map<string, CatalogEntry[]>();
  for (const entry of entries) {
    const list = groups.get(categoryOf(entry)) ?? [];
    groups.set(categoryOf(entry), list);
    list.push(entry);
  }
  return [...groups.entries()].map(([category, list]) => ({
    category,
    entries: [...list].sort((a, b) => Number(isRecommended(b)) - Number(isRecommended(a))),
  }));
}
