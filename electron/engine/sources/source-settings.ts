/**
 * Source settings in force for one job: the cache folder, its size limit and the extra catalog
 * URLs a request carried (the app's Settings). They are scoped to the job's async work, so the
 * cache and catalog readers deep in an operation see them without every call passing them on,
 * and two jobs running at once each see their own. Outside a scope, or for a field the request
 * left out, the environment (CARDSMITH_CACHE, CARDSMITH_CATALOGS) and the defaults apply.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SourceSettings } from '../api';

const scope = new AsyncLocalStorage<SourceSettings>();

/** Runs `body` with `settings` in force; undefined settings leave the enclosing ones. */
export function withSourceSettings<T>(settings: SourceSettings | undefined, body: () => Promise<T>): Promise<T> {
  return settings === undefined ? body() : scope.run(settings, body);
}

export function currentSourceSettings(): SourceSettings {
  return scope.getStore() ?? {};
}
