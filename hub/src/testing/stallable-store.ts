import { MemoryStore } from '../store/memory.js';
import type { Store } from '../store/store.js';

/** The embedded store behind a switch: once stalled, every call but close() hangs until resumed (never, if not). */
export function stallableStore(): { store: Store; stall: () => void; resume: () => void } {
  let stalled = false;
  const memory = new MemoryStore();
  const store = new Proxy(memory, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || property === 'close') return value;
      return (...args: unknown[]) => (stalled ? new Promise(() => {}) : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return { store, stall: () => (stalled = true), resume: () => (stalled = false) };
}
