import type { KitStore } from './store.js';

interface Entry<T> {
  value: T;
  expiresAt: number; // epoch milliseconds
}

const SWEEP_EVERY_WRITES = 1_000; // drop expired entries now and then so memory stays bounded

/** In-process {@link KitStore} for development and tests: one process only, lost on restart. */
export class MemoryKitStore implements KitStore {
  readonly #claims = new Map<string, Entry<true>>();
  readonly #sets = new Map<string, Entry<Set<string>>>();
  #writes = 0;

  async claimOnce(key: string, ttlSeconds: number): Promise<boolean> {
    this.#tick();
    if (this.#live(this.#claims, key)) return false;
    this.#claims.set(key, { value: true, expiresAt: Date.now() + ttlSeconds * 1000 });
    return true;
  }

  async addToSet(key: string, member: string, ttlSeconds: number): Promise<void> {
    this.#tick();
    const entry = this.#live(this.#sets, key) ?? { value: new Set<string>(), expiresAt: 0 };
    entry.value.add(member);
    entry.expiresAt = Date.now() + ttlSeconds * 1000;
    this.#sets.set(key, entry);
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    const entry = this.#live(this.#sets, key);
    if (!entry) return;
    entry.value.delete(member);
    if (entry.value.size === 0) this.#sets.delete(key);
  }

  async members(key: string): Promise<string[]> {
    return [...(this.#live(this.#sets, key)?.value ?? [])];
  }

  async delete(key: string): Promise<void> {
    this.#claims.delete(key);
    this.#sets.delete(key);
  }

  #live<T>(map: Map<string, Entry<T>>, key: string): Entry<T> | undefined {
    const entry = map.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  #tick(): void {
    this.#writes += 1;
    if (this.#writes % SWEEP_EVERY_WRITES !== 0) return;
    const now = Date.now();
    for (const map of [this.#claims, this.#sets] as Map<string, Entry<unknown>>[]) {
      for (const [key, entry] of map) if (entry.expiresAt <= now) map.delete(key);
    }
  }
}
