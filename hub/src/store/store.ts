/**
 * The one storage contract of the hub. Two implementations: Redis (production) and an
 * in-process map (the embedded mode for `npm start` and unit tests). Services build keys
 * with `keys.ts` and never talk to Redis directly.
 */
export interface SetOptions {
  /** Expire the key after this many seconds. Omit for no expiry. */
  ttlSeconds?: number;
  /** Only set when the key does not exist (Redis `SET NX`). */
  onlyIfAbsent?: boolean;
}

/** One write of a batch (see {@link Store.write}); each means what the method of the same name does. */
export type WriteOp =
  | { op: 'set'; key: string; value: string; ttlSeconds?: number }
  | { op: 'del'; key: string }
  | { op: 'swap'; key: string; expected: string | null; next: string | null; ttlSeconds?: number }
  | { op: 'zAddExpiring'; key: string; member: string; expiresAtMs: number }
  | { op: 'zRemove'; key: string; member: string }
  /** Sets the TTL of `key` where it exists; nothing where it does not (a record that follows another's life). */
  | { op: 'expire'; key: string; ttlSeconds: number }
  /** Sets `key` unless `marker` holds `mark` (see {@link Store.takeMarking}); both keys share a hash slot. */
  | { op: 'setUnlessMarked'; key: string; value: string; ttlSeconds?: number; marker: string; mark: string };

/** One write of {@link Store.versionedWrite}. */
export type VersionedOp =
  | { op: 'set'; key: string; value: string }
  | { op: 'del'; key: string }
  | { op: 'setAdd'; key: string; member: string }
  | { op: 'setRemove'; key: string; member: string };

/** The version counter and changelog a {@link Store.versionedWrite} bumps and appends to. */
export interface ChangeLog {
  /** A counter (INCR): the change's version is its new value. */
  versionKey: string;
  /** A sorted set: the change is logged as member `<version>:<entry>`, scored by its version. */
  logKey: string;
  entry: string;
  /** Every `trimEvery` versions, entries older than the last `keep` versions are removed. */
  keep: number;
  trimEvery: number;
  /**
   * The key naming the counter's history, set to `value` when absent (SET NX) before the
   * version is bumped. A counter that starts again after a data loss repeats its versions;
   * the first write after the loss puts a new epoch beside them, so (epoch, version) never
   * names two states. Same hash slot as `versionKey`.
   */
  epoch?: { key: string; value: string };
}

/** What {@link Store.versionedWrite} answers. */
export interface VersionedChange {
  /** The version the change made. */
  version: number;
  /** The epoch in force when the version was bumped; null when no `epoch` was asked for. */
  epoch: string | null;
}

/** What {@link Store.claimBeside} found and did. */
export interface ClaimBeside {
  /** The value of the record the claim sits beside; null when it was gone (nothing was set). */
  record: string | null;
  /** Whether the claim was set (it was absent and the record was there). */
  claimed: boolean;
}

export interface Store {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  /** Reads several keys in one round trip; missing keys come back as null. */
  getMany(keys: string[]): Promise<(string | null)[]>;
  /**
   * Follows an index in one round trip: the first of `indexKeys` (in order) that holds a value
   * names a record, read at `record.prefix + value + record.suffix`; its value comes back. Null
   * when no index key holds a value or the record is missing. On one Redis a read-only script
   * (the record's key is built from the index's value, so it cannot be declared: scripts may do
   * so outside a cluster); on a cluster the keys lie in several slots: one GET after another.
   */
  getIndexed(indexKeys: string[], record: { prefix: string; suffix: string }): Promise<string | null>;
  /** Returns false when `onlyIfAbsent` was set and the key already existed. */
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  /** Deletes keys; returns how many existed. */
  del(...keys: string[]): Promise<number>;
  /**
   * Compare-and-set: when the key holds `expected` (null: the key is absent), it is set to
   * `next` (null: deleted) and true comes back; otherwise nothing changes.
   */
  swap(key: string, expected: string | null, next: string | null, ttlSeconds?: number): Promise<boolean>;
  /**
   * Several independent writes in one round trip (a pipeline). Each write is atomic on its
   * own, the batch is not, and its keys may live on different hash slots (a cluster store
   * sends one pipeline per node). Rejects when any write failed; others may have landed.
   */
  write(ops: WriteOp[]): Promise<void>;
  /**
   * {@link write}, then {@link swap}, in one round trip (a pipeline; on a cluster the writes
   * first, then the swap), in that order: the answer is the swap's. Rejects when a write or the
   * swap failed; the others may have landed. The swap is as durable as {@link swap}'s, and so are
   * the writes: with replicas to wait for (Redis `WAIT`), it answers only once they hold the writes
   * and the swap (on a cluster the writes' masters are waited for before the swap is sent), and
   * rejects when they do not (README, "WAIT and persistence").
   */
  swapAfter(ops: WriteOp[], key: string, expected: string | null, next: string | null, ttlSeconds?: number): Promise<boolean>;
  /**
   * A versioned change in one round trip (registering a client: its record, the set of ids,
   * the version and the changelog): applies `ops` (no expiry), creates the epoch when absent,
   * then bumps `log.versionKey` and logs the change under the new version, which comes back
   * with the epoch. Atomic on one Redis (a script): a reader that sees the version sees the
   * writes and the epoch. On a cluster the keys lie in several slots: the writes go first, then
   * the epoch, the version and the log (not atomic, in that order).
   */
  versionedWrite(ops: VersionedOp[], log: ChangeLog): Promise<VersionedChange>;
  /**
   * In one atomic step: when `recordKey` exists and `key` does not, sets `key` to `value`
   * with what is left of `recordKey`'s expiry (`fallbackTtlSeconds` when it has none).
   * Both keys share a hash slot (a single-use claim beside its record).
   */
  claimBeside(key: string, value: string, recordKey: string, fallbackTtlSeconds: number): Promise<ClaimBeside>;
  /** Atomically reads and deletes a key (single-use values). */
  take(key: string): Promise<string | null>;
  /**
   * Atomically reads and deletes `key` and sets `marker` to `mark` for `markTtlSeconds`: a
   * later `setUnlessMarked` write of the same mark does not bring `key` back. Both keys share
   * a hash slot.
   */
  takeMarking(key: string, marker: string, mark: string, markTtlSeconds: number): Promise<string | null>;
  /** Seconds left before the key expires: -1 no expiry, -2 missing. */
  ttl(key: string): Promise<number>;
  /** Adds to a set; when ttlSeconds is given the set's expiry is pushed out to at least that. */
  setAdd(key: string, member: string, ttlSeconds?: number): Promise<void>;
  setRemove(key: string, member: string): Promise<void>;
  setMembers(key: string): Promise<string[]>;
  /** How many members a set has, without reading them (Redis `SCARD`); 0 for a missing key. */
  setCard(key: string): Promise<number>;
  /**
   * Walks a set a few members at a time (Redis `SSCAN`): start with cursor `'0'`, pass back the
   * cursor each answer gives, stop when it is `'0'` again. Every member there for the whole walk
   * is returned at least once (some may come twice); `count` is a hint of how many per call.
   * A cursor this store never answered (one typed into a URL) starts from the beginning.
   */
  setScan(key: string, cursor: string, count: number): Promise<{ cursor: string; members: string[] }>;
  /** Sorted set (for queues and logs): add or move a member to a score. */
  zAdd(key: string, score: number, member: string): Promise<void>;
  /** Adds several members in one round trip. */
  zAddMany(key: string, items: { score: number; member: string }[]): Promise<void>;
  /**
   * An index of expiring members: adds `member` scored by its expiry (epoch ms, Infinity for
   * none), drops members already expired, and keeps the key until its last member expires.
   * Answers how many members it holds then.
   */
  zAddExpiring(key: string, member: string, expiresAtMs: number): Promise<number>;
  zRemove(key: string, member: string): Promise<number>;
  /** Members with score in [min, max], lowest first, at most `limit`. */
  zRangeByScore(key: string, min: number, max: number, limit?: number): Promise<string[]>;
  /** Members by rank, highest score first. */
  zRevRange(key: string, start: number, stop: number): Promise<string[]>;
  /** Members with score in [min, max], highest first, at most `limit`. */
  zRevRangeByScore(key: string, max: number, min: number, limit: number): Promise<string[]>;
  zCard(key: string): Promise<number>;
  /** Removes members with score in [min, max]; returns how many. */
  zRemoveByScore(key: string, min: number, max: number): Promise<number>;
  /**
   * Removes members by rank, lowest score first, `start` to `stop` inclusive; negative ranks
   * count from the highest (-1 is the last), as Redis `ZREMRANGEBYRANK`. Returns how many.
   */
  zRemoveByRank(key: string, start: number, stop: number): Promise<number>;
  /**
   * Adds `by` (1 unless given; -1 gives a count back) to a counter; the first write sets its
   * expiry. A count given back after its key expired starts the next window one lower.
   */
  incr(key: string, ttlSeconds?: number, by?: number): Promise<number>;
  /** Answers quickly whether the backend is reachable. */
  ping(): Promise<boolean>;
  /**
   * The backend's own clock, in milliseconds since the epoch (Redis `TIME`; the process's clock
   * in memory): the one clock every hub process sharing the store can agree on (store-clock.ts).
   */
  time(): Promise<number>;
  close(): Promise<void>;
}

/** The `Retry-After` (seconds) of every 503 the hub answers while its store is down. */
export const STORE_RETRY_AFTER = '5';
/**
 * How long one store command may take before it fails closed (StoreUnavailableError, a 503), in
 * milliseconds: the store's, the portal session store's and the rate limits' deadline, and the
 * window a stalled request's mark lasts (stall-watch.ts), which only makes sense at the same length.
 */
export const STORE_DEADLINE_MS = 2_000;

/** Raised when the backing store cannot be reached: callers fail closed with a 503. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(cause?: unknown) {
    super('the session store is unavailable', { cause });
  }
}

/** The StoreUnavailableError an error is, or one a library wrapped (oidc-provider's); undefined for any other error. */
export function storeUnavailableOf(error: unknown): StoreUnavailableError | undefined {
  if (error instanceof StoreUnavailableError) return error;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return cause instanceof StoreUnavailableError ? cause : undefined;
}

/** The store is down (see {@link storeUnavailableOf}). */
export function isStoreUnavailable(error: unknown): boolean {
  return storeUnavailableOf(error) !== undefined;
}
