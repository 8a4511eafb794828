import { ConflictError, msg } from '../errors.js';
import type { Store } from './store.js';

/** What one try of {@link compareAndSet} decided from the value it read. */
/** `write: null` deletes the key (only if it still holds what was read). */
export type CasStep<R> = { write: string | null; result: R } | { result: R };

/** Tries of one rewrite before it gives up (each lost to another write of the same key). */
const MAX_ATTEMPTS = 8;

/**
 * Rewrites one key from what is stored now: reads it, lets `step` decide the new value from it,
 * and writes that only if the key still holds what was read (Store.swap), else reads again.
 * Two rewrites at once both land, and one racing a delete does not bring the key back (`step`
 * sees null). A step without `write` leaves the key as it is. A ConflictError (409) when every
 * try lost to another write.
 */
export async function compareAndSet<R>(store: Store, key: string, step: (current: string | null) => CasStep<R>): Promise<R> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await store.get(key);
    const decided = step(current);
    if (!('write' in decided) || (await store.swap(key, current, decided.write))) return decided.result;
  }
  throw new ConflictError(msg('errors:busyRecord'));
}
