/**
 * "Latest answer wins", keyed by request kind: the store asks the engine again before an earlier
 * answer came back (another board's catalog, another card to inspect), and answers may arrive in
 * any order. Each `begin(key)` supersedes every earlier one for the same key; the guard it returns
 * says whether its answer is still the one wanted.
 */
export interface Latest<K extends string> {
  /** Starts a request for `key`; the guard stays true until a later request for `key` begins. */
  begin(key: K): () => boolean;
  /** Drops every answer still on its way for `key` (the choice it was for is gone). */
  drop(key: K): void;
}

export function createLatest<K extends string>(): Latest<K> {
  const current = new Map<K, number>();
  const next = (key: K): number => {
    const ticket = (current.get(key) ?? 0) + 1;
    current.set(key, ticket);
    return ticket;
  };
  return {
    begin(key) {
      const ticket = next(key);
      return () => current.get(key) === ticket;
    },
    drop(key) {
      next(key);
    },
  };
}
