/**
 * Lazily initialise an async resource once per process.
 *
 * The first caller triggers `factory`; every concurrent or later caller gets
 * the same promise. If initialisation fails the cached promise is dropped so
 * the next caller retries instead of inheriting a permanently rejected value.
 */
export function lazy<T>(factory: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (!pending) {
      const attempt: Promise<T> = factory().catch((err) => {
        if (pending === attempt) pending = undefined;
        throw err;
      });
      pending = attempt;
    }
    return pending;
  };
}

export interface Resettable<T> {
  get(): Promise<T>;
  /** Drops the cached value (disposing it if it resolved); the next get() re-runs the factory. */
  reset(): Promise<void>;
}

export function resettableLazy<T>(
  factory: () => Promise<T>,
  dispose?: (value: T) => Promise<void>,
): Resettable<T> {
  let pending: Promise<T> | undefined;
  return {
    get() {
      if (!pending) {
        const attempt: Promise<T> = factory().catch((err) => {
          if (pending === attempt) pending = undefined;
          throw err;
        });
        pending = attempt;
      }
      return pending;
    },
    async reset() {
      const current = pending;
      pending = undefined;
      if (!current || !dispose) return;
      const value = await current.then(
        (v) => ({ ok: true as const, v }),
        () => ({ ok: false as const }),
      );
      if (value.ok) await dispose(value.v);
    },
  };
}
