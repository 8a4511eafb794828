import type { Store } from '../store/store.js';
import type { HubMetrics } from './hub-metrics.js';

/**
 * The same store, every command timed (`sso_store_command_duration_seconds`) and its failures
 * counted (`sso_store_command_errors_total`), labelled by Store method. Methods added to the
 * Store interface later are timed too (whatever returns a promise); everything else (the Redis client the session store
 * and the throttle share) passes through unchanged.
 */
export function instrumentStore<S extends Store>(store: S, metrics: HubMetrics): S {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'close' || property === 'constructor') return value;
      const command = property; // a method name of the Store interface: a small, fixed set
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) return result;
        const end = metrics.storeDuration.startTimer({ command });
        return result.then(
          (answer) => {
            end();
            // ping answers false instead of throwing when the backend is gone.
            if (property === 'ping' && answer === false) metrics.storeErrors.inc({ command });
            return answer;
          },
          (error: unknown) => {
            end();
            metrics.storeErrors.inc({ command });
            throw error;
          },
        );
      };
    },
  });
}
