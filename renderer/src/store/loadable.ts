/** A value fetched from the engine: not asked yet, on its way, here, or failed with a cause. */
import type { ErrorInfo } from '../../../electron/engine/errors';
import type { Outcome } from '../client/cardsmith-client';

export type Loadable<T> =
  | { readonly status: 'idle' }
  | { readonly status: 'loading' }
  | { readonly status: 'ready'; readonly value: T }
  | { readonly status: 'failed'; readonly error: ErrorInfo };

export const IDLE: Loadable<never> = { status: 'idle' };
export const LOADING: Loadable<never> = { status: 'loading' };

export function fromOutcome<T, R>(outcome: Outcome<T>, pick: (value: T) => R): Loadable<R> {
  return outcome.ok ? { status: 'ready', value: pick(outcome.value) } : { status: 'failed', error: outcome.error };
}

export function valueOf<T>(loadable: Loadable<T>): T | undefined {
  return loadable.status === 'ready' ? loadable.value : undefined;
}
