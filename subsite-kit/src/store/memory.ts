import type { KitStore } from './store.js';

interface Entry<T> {
  value: T;
  expiresAt: number; // epoch milliseconds
}

const SWEEP_EVERY_WRITES = 1_000; // drop expired entries now and then so memory stays bounded

/** In-process {@link KitStore} for development and tests: one process only, lost on restart. */
export class MemoryKitStore implements KitStore {
  readonly #claims = new Map<string, Entry<string>>();
  /** key → member → expiry (epoch ms); the entry expires with its longest-lived member. */
  readonly #sets = new Map<string, Entry<Map<string, number>>>();
  #writes = 0;

  async claimOnce(key: string, ttlSeconds: number, owner = '1'): Promise<boolean> {
    this.#tick();
    if (this.#live(this.#claims, key)) return false;
    this.#claims.set(key, { value: owner, expiresAt: Date.now() + ttlSeconds * 1000 });
    return true;
  }

  async releaseClaim(key: string, owner: string): Promise<void> {
    if (this.#live(this.#claims, key)?.value === owner) this.#claims.delete(key);
  }

  async addToSet(key: string, member: string, ttlSeconds: number): Promise<void> {
    this.#tick();
    const now = Date.now();
    const entry = this.#live(this.#sets, key) ?? { value: new Map<string, number>(), expiresAt: 0 };
    for (const [old, expiresAt] of entry.value) if (expiresAt <= now) entry.value.delete(old);
    const expiresAt = now + ttlSeconds * 1000;
    entry.value.set(member, expiresAt);
    entry.expiresAt = Math.max(entry.expiresAt, expiresAt);
    this.#sets.set(key, entry);
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    const entry = this.#live(this.#sets, key);
    if (!entry) return;
    entry.value.delete(member);
    if (entry.value.size === 0) this.#sets.delete(key);
  }

  async members(key: string): Promise<string[]> {
    const now = Date.now();
    return [...(this.#live(this.#sets, key)?.value ?? [])].filter(([, expiresAt]) => expiresAt > now).map(([member]) => member);
  }

  async isClaimed(key: string): Promise<boolean> {
    return this.#live(this.#claims, key) !== undefined;
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
