import type { ChangeLog, ClaimBeside, SetOptions, Store, VersionedChange, VersionedOp, WriteOp } from './store.js';

interface Entry {
  value: string | Set<string> | Map<string, number>;
  /** Epoch milliseconds, or Infinity. */
  expiresAt: number;
}

const SWEEP_INTERVAL_MS = 30_000; // how often expired keys are purged, in milliseconds

/**
 * In-process store for trying the hub out and for unit tests. Unlike oidc-provider's
 * bundled LRU adapter it never evicts live data: entries leave only when they expire or
 * are deleted, so a burst of tokens cannot silently drop sessions.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly #data = new Map<string, Entry>();
  readonly #sweeper: NodeJS.Timeout;

  constructor() {
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    this.#sweeper.unref();
  }

  #entry(key: string): Entry | undefined {
    const entry = this.#data.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.#data.delete(key);
      return undefined;
    }
    return entry;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.#data) {
      if (entry.expiresAt <= now) this.#data.delete(key);
    }
  }

  static #expiry(ttlSeconds?: number): number {
    return ttlSeconds === undefined ? Infinity : Date.now() + ttlSeconds * 1000;
  }

  #string(key: string): string | null {
    const entry = this.#entry(key);
    if (!entry) return null;
    if (typeof entry.value !== 'string') throw new TypeError(`key ${key} does not hold a string`);
    return entry.value;
  }

  #collection<T extends Set<string> | Map<string, number>>(key: string, make: () => T): T {
    const entry = this.#entry(key);
    if (entry) return entry.value as T;
    const value = make();
    this.#data.set(key, { value, expiresAt: Infinity });
    return value;
  }

  #dropIfEmpty(key: string): void {
    const entry = this.#data.get(key);
    if (entry && typeof entry.value !== 'string' && entry.value.size === 0) this.#data.delete(key);
  }

  async get(key: string): Promise<string | null> {
    return this.#string(key);
  }

  async getMany(keys: string[]): Promise<(string | null)[]> {
    return keys.map((key) => this.#string(key));
  }

  async getIndexed(indexKeys: string[], record: { prefix: string; suffix: string }): Promise<string | null> {
    for (const key of indexKeys) {
      const value = this.#string(key);
      if (value !== null) return this.#string(record.prefix + value + record.suffix);
    }
    return null;
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    if (options.onlyIfAbsent && this.#entry(key)) return false;
    this.#data.set(key, { value, expiresAt: MemoryStore.#expiry(options.ttlSeconds) });
    return true;
  }

  async write(ops: WriteOp[]): Promise<void> {
    for (const op of ops) {
      switch (op.op) {
        case 'set': await this.set(op.key, op.value, op.ttlSeconds !== undefined ? { ttlSeconds: op.ttlSeconds } : {}); break;
        case 'del': await this.del(op.key); break;
        case 'swap': await this.swap(op.key, op.expected, op.next, op.ttlSeconds); break;
        case 'zAddExpiring': await this.zAddExpiring(op.key, op.member, op.expiresAtMs); break;
        case 'zRemove': await this.zRemove(op.key, op.member); break;
        case 'expire': {
          const entry = this.#entry(op.key);
          if (entry) entry.expiresAt = MemoryStore.#expiry(op.ttlSeconds);
          break;
        }
        case 'setUnlessMarked':
          if (this.#string(op.marker) !== op.mark) await this.set(op.key, op.value, op.ttlSeconds !== undefined ? { ttlSeconds: op.ttlSeconds } : {});
          break;
      }
    }
  }

  async swapAfter(ops: WriteOp[], key: string, expected: string | null, next: string | null, ttlSeconds?: number): Promise<boolean> {
    await this.write(ops);
    return this.swap(key, expected, next, ttlSeconds);
  }

  async versionedWrite(ops: VersionedOp[], log: ChangeLog): Promise<VersionedChange> {
    for (const op of ops) {
      switch (op.op) {
        case 'set': await this.set(op.key, op.value); break;
        case 'del': await this.del(op.key); break;
        case 'setAdd': await this.setAdd(op.key, op.member); break;
        case 'setRemove': await this.setRemove(op.key, op.member); break;
      }
    }
    if (log.epoch) await this.set(log.epoch.key, log.epoch.value, { onlyIfAbsent: true });
    const epoch = log.epoch ? this.#string(log.epoch.key) : null;
    const version = await this.incr(log.versionKey);
    await this.zAdd(log.logKey, version, `${version}:${log.entry}`);
    if (version % log.trimEvery === 0) await this.zRemoveByScore(log.logKey, 0, version - log.keep);
    return { version, epoch };
  }

  async claimBeside(key: string, value: string, recordKey: string, fallbackTtlSeconds: number): Promise<ClaimBeside> {
    const record = this.#string(recordKey);
    if (record === null) return { record, claimed: false };
    if (this.#entry(key)) return { record, claimed: false };
    const expiresAt = this.#data.get(recordKey)!.expiresAt;
    this.#data.set(key, { value, expiresAt: Number.isFinite(expiresAt) ? expiresAt : MemoryStore.#expiry(fallbackTtlSeconds) });
    return { record, claimed: true };
  }

  async del(...keys: string[]): Promise<number> {
    let count = 0;
    for (const key of keys) {
      if (this.#entry(key)) count += 1;
      this.#data.delete(key);
    }
    return count;
  }

  async swap(key: string, expected: string | null, next: string | null, ttlSeconds?: number): Promise<boolean> {
    if (this.#string(key) !== expected) return false;
    if (next === null) this.#data.delete(key);
    else this.#data.set(key, { value: next, expiresAt: MemoryStore.#expiry(ttlSeconds) });
    return true;
  }

  async take(key: string): Promise<string | null> {
    const value = this.#string(key);
    this.#data.delete(key);
    return value;
  }

  async takeMarking(key: string, marker: string, mark: string, markTtlSeconds: number): Promise<string | null> {
    this.#data.set(marker, { value: mark, expiresAt: MemoryStore.#expiry(markTtlSeconds) });
    return this.take(key);
  }

  async ttl(key: string): Promise<number> {
    const entry = this.#entry(key);
    if (!entry) return -2;
    if (entry.expiresAt === Infinity) return -1;
    return Math.ceil((entry.expiresAt - Date.now()) / 1000);
  }

  async setAdd(key: string, member: string, ttlSeconds?: number): Promise<void> {
    this.#collection(key, () => new Set<string>()).add(member);
    if (ttlSeconds !== undefined) {
      const entry = this.#data.get(key)!;
      const wanted = MemoryStore.#expiry(ttlSeconds);
      if (entry.expiresAt === Infinity || entry.expiresAt < wanted) entry.expiresAt = wanted;
    }
  }

  async setRemove(key: string, member: string): Promise<void> {
    const entry = this.#entry(key);
    if (entry && entry.value instanceof Set) {
      entry.value.delete(member);
      this.#dropIfEmpty(key);
    }
  }

  async setMembers(key: string): Promise<string[]> {
    const entry = this.#entry(key);
    return entry && entry.value instanceof Set ? [...entry.value] : [];
  }

  async setCard(key: string): Promise<number> {
    const entry = this.#entry(key);
    return entry && entry.value instanceof Set ? entry.value.size : 0;
  }

  /** The cursor is `>` and the last member returned: members come in sorted order, so one there throughout is never skipped. */
  async setScan(key: string, cursor: string, count: number): Promise<{ cursor: string; members: string[] }> {
    const after = cursor.startsWith('>') ? cursor.slice(1) : undefined;
    const members = (await this.setMembers(key)).sort().filter((member) => after === undefined || member > after);
    const batch = members.slice(0, Math.max(1, count));
    return { cursor: members.length > batch.length ? `>${batch[batch.length - 1]}` : '0', members: batch };
  }

  #sorted(key: string): [string, number][] {
    const entry = this.#entry(key);
    if (!entry || !(entry.value instanceof Map)) return [];
    return [...entry.value].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  async zAdd(key: string, score: number, member: string): Promise<void> {
    this.#collection(key, () => new Map<string, number>()).set(member, score);
  }

  async zAddMany(key: string, items: { score: number; member: string }[]): Promise<void> {
    if (items.length === 0) return;
    const set = this.#collection(key, () => new Map<string, number>());
    for (const { score, member } of items) set.set(member, score);
  }

  async zAddExpiring(key: string, member: string, expiresAtMs: number): Promise<number> {
    const index = this.#collection(key, () => new Map<string, number>());
    const now = Date.now();
    for (const [existing, expiry] of index) if (expiry <= now) index.delete(existing);
    index.set(member, expiresAtMs);
    this.#data.get(key)!.expiresAt = Math.max(...index.values());
    return index.size;
  }

  async zRemove(key: string, member: string): Promise<number> {
    const entry = this.#entry(key);
    if (!entry || !(entry.value instanceof Map)) return 0;
    const removed = entry.value.delete(member) ? 1 : 0;
    this.#dropIfEmpty(key);
    return removed;
  }

  async zRangeByScore(key: string, min: number, max: number, limit?: number): Promise<string[]> {
    const hits = this.#sorted(key).filter(([, score]) => score >= min && score <= max).map(([m]) => m);
    return limit === undefined ? hits : hits.slice(0, limit);
  }

  async zRevRangeByScore(key: string, max: number, min: number, limit: number): Promise<string[]> {
    return this.#sorted(key).reverse().filter(([, score]) => score <= max && score >= min).slice(0, limit).map(([m]) => m);
  }

  async zRevRange(key: string, start: number, stop: number): Promise<string[]> {
    const all = this.#sorted(key).reverse().map(([m]) => m);
    return all.slice(start, stop < 0 ? all.length + stop + 1 : stop + 1);
  }

  async zCard(key: string): Promise<number> {
    return this.#sorted(key).length;
  }

  async zRemoveByScore(key: string, min: number, max: number): Promise<number> {
    let removed = 0;
    for (const [member, score] of this.#sorted(key)) {
      if (score >= min && score <= max) removed += await this.zRemove(key, member);
    }
    return removed;
  }

  async zRemoveByRank(key: string, start: number, stop: number): Promise<number> {
    const members = this.#sorted(key).map(([member]) => member);
    const from = Math.max(0, start < 0 ? members.length + start : start);
    const to = Math.min(members.length - 1, stop < 0 ? members.length + stop : stop);
    let removed = 0;
    for (const member of members.slice(from, to + 1)) removed += await this.zRemove(key, member);
    return removed;
  }

  async incr(key: string, ttlSeconds?: number, by = 1): Promise<number> {
    const current = Number(this.#string(key) ?? '0') + by;
    const existing = this.#entry(key);
    this.#data.set(key, {
      value: String(current),
      expiresAt: existing ? existing.expiresAt : MemoryStore.#expiry(ttlSeconds),
    });
    return current;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async time(): Promise<number> {
    return Date.now();
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#data.clear();
  }
}
