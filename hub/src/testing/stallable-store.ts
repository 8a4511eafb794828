import { MemoryStore } from '../store/memory.js';
import type { Store } from '../store/store.js';

/**
 * The embedded store behind a switch: once stalled, every call but close() waits, as commands
 * wait on a paused redis-server; `resume()` runs the waiting calls in order and lets new ones
 * through. Never resumed, they never settle.
 */
export function stallableStore(): { store: Store; stall: () => void; resume: () => void } {
  let stalled = false;
  let waiting: (() => void)[] = [];
  const memory = new MemoryStore();
  const store = new Proxy(memory, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || property === 'close') return value;
      const call = (args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args);
      return (...args: unknown[]) => (stalled ? new Promise((resolve) => waiting.push(() => resolve(call(args)))) : call(args));
    },
  });
  const resume = () => {
    stalled = false;
    const calls = waiting;
    waiting = [];
    for (const run of calls) run();
  };
  return { store, stall: () => (stalled = true), resume };
}
