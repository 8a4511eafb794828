/**
 * What the kit keeps besides the sessions themselves: used-once markers (sync code and hub
 * token `jti`s) and the indexes user → sessions and hub sid → sessions. Every key has a TTL.
 * Two implementations, {@link MemoryKitStore} and {@link RedisKitStore}, pass the same contract
 * test (`contract.test.ts`).
 */
export interface KitStore {
  /**
   * Claims `key` for `ttlSeconds` if nobody has (Redis `SET NX EX`).
   * @returns true the first time, false while the claim lives.
   */
  claimOnce(key: string, ttlSeconds: number): Promise<boolean>;
  /** Adds `member` to the set at `key` and (re)sets the set's TTL. */
  addToSet(key: string, member: string, ttlSeconds: number): Promise<void>;
  /** Removes `member` from the set at `key` (no-op when absent). */
  removeFromSet(key: string, member: string): Promise<void>;
  /** Members of the set at `key`; empty when there is none. */
  members(key: string): Promise<string[]>;
  /** Deletes `key` (no-op when absent). */
  delete(key: string): Promise<void>;
}
