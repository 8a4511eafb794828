import type { Store } from '../store/store.js';
import type { HubMetrics } from './hub-metrics.js';

/**
 * The same store, every command timed (`sso_store_command_duration_seconds`) and its failures
 * counted (`sso_store_command_errors_total`), labelled by Store method. Methods added to the
 * Store interface later are timed too (whatever returns a promise); everything else (the Redis client the session store
 * and the throttle share) passes through unchanged.
 */
export function instrumentStore<S extends Store>(store: S, metrics: HubMetrics): S {
  // One wrapper per method, made on first use (not a new closure on every property read); made
  // again if the method itself was replaced (a test's fault injection).
  const wrappers = new Map<string, { method: unknown; wrapper: (...args: unknown[]) => unknown }>();
  const wrap = (target: S, command: string, method: (...a: unknown[]) => unknown) => {
    const labels = { command }; // a method name of the Store interface: a small, fixed set
    const isPing = command === 'ping';
    return (...args: unknown[]) => {
      const result = method.apply(target, args);
      if (!(result instanceof Promise)) return result;
      const started = performance.now(); // not startTimer: no closure and label copy per command
      const end = () => metrics.storeDuration.observe(labels, (performance.now() - started) / 1000);
      return result.then(
        (answer: unknown) => {
          end();
          // ping answers false instead of throwing when the backend is gone.
          if (isPing && answer === false) metrics.storeErrors.inc(labels);
          return answer;
        },
        (error: unknown) => {
          end();
          metrics.storeErrors.inc(labels);
          throw error;
        },
      );
    };
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'close' || property === 'constructor') return value;
      const known = wrappers.get(property);
      if (known?.method === value) return known.wrapper;
      const wrapper = wrap(target, property, value as (...a: unknown[]) => unknown);
      wrappers.set(property, { method: value, wrapper });
      return wrapper;
    },
  });
}
