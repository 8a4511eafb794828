import { RedisStore, type StoreObserver } from '../store/redis.js';
import type { Store } from '../store/store.js';
import type { HubMetrics } from './hub-metrics.js';

/**
 * What the store metrics record of one call: its duration in `sso_store_command_duration_seconds`
 * and, when it failed, one more in `sso_store_command_errors_total`, labelled by Store method
 * (a small, fixed set: one histogram child and one label object per method, made on first use).
 */
function storeMetricsObserver(metrics: HubMetrics): StoreObserver {
  const byCommand = new Map<string, { duration: { observe(seconds: number): void }; labels: { command: string } }>();
  return (command, ms, failed) => {
    let known = byCommand.get(command);
    if (known === undefined) byCommand.set(command, (known = { duration: metrics.storeDuration.labels(command), labels: { command } }));
    known.duration.observe(ms / 1000);
    if (failed) metrics.storeErrors.inc(known.labels);
  };
}

/** The functions of `store` to time: every method it has (its class's and its own), but close. */
function methodsOf(store: object): string[] {
  const names = new Set<string>();
  for (let level: object | null = store; level !== null && level !== Object.prototype; level = Object.getPrototypeOf(level) as object | null) {
    for (const name of Object.getOwnPropertyNames(level)) {
      if (name === 'constructor' || name === 'close') continue;
      if (typeof Object.getOwnPropertyDescriptor(level, name)?.value === 'function') names.add(name);
    }
  }
  return [...names];
}

/**
 * The same store, every call timed (`sso_store_command_duration_seconds`) and its failures
 * counted (`sso_store_command_errors_total`), labelled by Store method; everything else (the
 * Redis client the session store and the throttle share) passes through unchanged.
 *
 * A RedisStore times its calls itself, inside each command's deadline (one promise per command,
 * no wrapper): it is returned as it is. Any other store (the embedded one, a test's wrapper) is
 * given a wrapper made once, here: an object on top of it with one timing function per method,
 * which reads the method at each call (a test may replace it on the store underneath).
 */
export function instrumentStore<S extends Store>(store: S, metrics: HubMetrics): S {
  const observe = storeMetricsObserver(metrics);
  if (RedisStore.isOwn(store)) {
    store.observeCommands(observe);
    return store;
  }
  const timed = Object.create(store) as S;
  for (const command of methodsOf(store)) {
    const isPing = command === 'ping';
    const wrapper = (...args: unknown[]): unknown => {
      const result = (Reflect.get(store, command) as (...a: unknown[]) => unknown).apply(store, args);
      if (!(result instanceof Promise)) return result;
      const started = performance.now();
      return result.then(
        (answer: unknown) => {
          // ping answers false instead of throwing when the backend is gone.
          observe(command, performance.now() - started, isPing && answer === false);
          return answer;
        },
        (error: unknown) => {
          observe(command, performance.now() - started, true);
          throw error;
        },
      );
    };
    Object.defineProperty(timed, command, { value: wrapper, writable: true, configurable: true });
  }
  return timed;
}
