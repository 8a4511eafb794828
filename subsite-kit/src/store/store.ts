/**
 * What the kit keeps besides the sessions themselves: used-once markers (sync code and hub
 * token `jti`s) and the indexes user → sessions and hub sid → sessions. Every key has a TTL.
 * Two implementations, {@link MemoryKitStore} and {@link RedisKitStore}, pass the same contract
 * test (`contract.test.ts`).
 */
export interface KitStore {
  /**
   * Claims `key` for `ttlSeconds` if nobody has (Redis `SET NX EX`), as `owner` (default `1`).
   * @returns true the first time, false while the claim lives.
   */
  claimOnce(key: string, ttlSeconds: number, owner?: string): Promise<boolean>;
  /**
   * Removes the claim at `key` if `owner` holds it (compare-and-delete): a claim whose answer
   * was given up on (a deadline) is taken back even if it lands later.
   */
  releaseClaim(key: string, owner: string): Promise<void>;
  /**
   * Adds `member` to the set at `key` for `ttlSeconds`: each member expires on its own (a
   * user's old sessions leave the index by themselves), and the set lives as long as its
   * longest-lived member.
   */
  addToSet(key: string, member: string, ttlSeconds: number): Promise<void>;
  /** Removes `member` from the set at `key` (no-op when absent). */
  removeFromSet(key: string, member: string): Promise<void>;
  /** Live members of the set at `key`; empty when there is none. */
  members(key: string): Promise<string[]>;
  /** Whether `key` is claimed now (a live {@link claimOnce}), without claiming it. */
  isClaimed(key: string): Promise<boolean>;
  /** Deletes `key` (no-op when absent). */
  delete(key: string): Promise<void>;
}
