/**
 * A store check that has not finished (or failed) while this process's event loop was busy for
 * at least this share of the wait says nothing about the store: every store reply waits for a
 * turn of the loop, and the readiness check asks the store a dozen things in turn. `/readyz`
 * and the "store check failed" log line then name the process's own load, not the store.
 */
export const OVERLOADED_UTILIZATION = 0.75;
