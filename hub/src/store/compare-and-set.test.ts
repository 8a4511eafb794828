import { describe, expect, it } from '@jest/globals';
import { ConflictError } from '../errors.js';
import { compareAndSet } from './compare-and-set.js';
import { MemoryStore } from './memory.js';
import type { Store } from './store.js';

describe('compareAndSet: one key rewritten from what is stored', () => {
  it('writes what the step decides from the value read, and answers its result', async () => {
    const store = new MemoryStore();
    await store.set('k', '1');
    expect(await compareAndSet(store, 'k', (current) => ({ write: String(Number(current) + 1), result: 'done' }))).toBe('done');
    expect(await store.get('k')).toBe('2');
    await store.close();
  });

  it('reads again when another write landed between its read and its write; both land', async () => {
    const store = new MemoryStore();
    await store.set('k', '');
    let interfered = false;
    await compareAndSet(store, 'k', (current) => {
      if (!interfered) {
        interfered = true;
        void store.set('k', `${current}b`); // lands before this try's swap
      }
      return { write: `${current}a`, result: undefined };
    });
    expect(await store.get('k')).toBe('ba');
    await store.close();
  });

  it('a step without a write leaves the key alone; a missing key is seen as null', async () => {
    const store = new MemoryStore();
    expect(await compareAndSet(store, 'absent', (current) => ({ result: current }))).toBeNull();
    expect(await store.get('absent')).toBeNull();
    await store.close();
  });

  it('gives up with a ConflictError (409) when every try lost to another write, not a store failure', async () => {
    const inner = new MemoryStore();
    // Every swap loses (another write always landed first); the rest is the store's own, bound to it.
    const store = new Proxy(inner, {
      get: (target, name) => {
        if (name === 'swap') return async () => false;
        const value = Reflect.get(target, name, target) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as Store;
    let tries = 0;
    await expect(compareAndSet(store, 'k', () => ((tries += 1), { write: 'x', result: undefined }))).rejects.toBeInstanceOf(ConflictError);
    expect(tries).toBe(8);
    await inner.close();
  });
});
