/**
 * A store check that has not finished (or failed) while this process's event loop was busy for
 * at least this share of the wait says nothing about the store: every store reply waits for a
 * turn of the loop, and the readiness check asks the store a dozen things in turn. `/readyz`
 * and the "store check failed" log line then name the process's own load, not the store.
 */
export const OVERLOADED_UTILIZATION = 0.75;

/**
 * The least the event loop must have been busy through a failed store check, ms, for the failure
 * to be put down to this process's load. A check that failed at once (Redis restarted or down:
 * `connect ECONNREFUSED` in 1 ms) shows a loop "busy" through nearly all of that millisecond,
 * and a soak test's restart of Redis logged "overloaded … the store may be fine" while the store
 * was down and the hub idle. A reply held up by the hub's own work waits for whole turns of the
 * loop, far longer than this.
 */
export const OVERLOADED_MIN_BUSY_MS = 250;
