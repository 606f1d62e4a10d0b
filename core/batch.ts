/**
 * Coalesces lookups made in the same turn of the event loop into one load: `batched(load)` returns a
 * function of one key; every key asked for before the next `setImmediate` goes to one `load(keys)` call (in
 * chunks of at most `maxKeys`), and each caller gets the value for its key (undefined when the load has none).
 * A load that fails rejects every caller of that batch. Used to turn many single-event relay queries into one
 * REQ, so a burst of work never opens more subscriptions than a relay allows.
 */
export function batched<K, V>(
  load: (keys: K[]) => Promise<ReadonlyMap<K, V>>,
  maxKeys = 256,
): (key: K) => Promise<V | undefined> {
  let pending: Map<K, { resolve: (v: V | undefined) => void; reject: (err: unknown) => void }[]> | undefined;
  const flush = (batch: NonNullable<typeof pending>): void => {
    const keys = [...batch.keys()];
    for (let i = 0; i < keys.length; i += maxKeys) {
      const chunk = keys.slice(i, i + maxKeys);
      load(chunk).then(
        (found) => {
          for (const k of chunk) for (const w of batch.get(k) ?? []) w.resolve(found.get(k));
        },
        (err: unknown) => {
          for (const k of chunk) for (const w of batch.get(k) ?? []) w.reject(err);
        },
      );
    }
  };
  return (key) =>
    new Promise<V | undefined>((resolve, reject) => {
      if (!pending) {
        const batch = new Map<K, { resolve: (v: V | undefined) => void; reject: (err: unknown) => void }[]>();
        pending = batch;
        setImmediate(() => {
          pending = undefined;
          flush(batch);
        });
      }
      const waiting = pending.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else pending.set(key, [{ resolve, reject }]);
    });
}
