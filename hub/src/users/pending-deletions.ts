import { randomUUID } from 'node:crypto';
import { backoffDelay, type Backoff } from '../delivery/delivery.js';
import { compareAndSet } from '../store/compare-and-set.js';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';

/** Who asked for a deletion, for its audit entry: a user id (the owner, an admin) or `cli`. */
export interface DeletionActor {
  actor: string;
  ip?: string;
}

/**
 * A deletion of an account as it is recorded before anything of the account is touched, so that
 * a deletion cut off part-way (the store failing, the process stopping) is finished later by the
 * hub itself (DeletionResumer), and the console and the CLI can show it meanwhile.
 */
export interface PendingDeletion {
  userId: string;
  username: string;
  event: 'admin.user.delete' | 'account.deleted';
  by: DeletionActor;
  /**
   * `checking`: the owner's deletion before its last check (the last admin, the code being used
   * up): if its request stops here, the deletion never happened and is rolled back (the account's
   * hold released). `deleting`: decided; finished whatever happens.
   */
  phase: 'checking' | 'deleting';
  /** The hold (User.deletionHold) the owner's deletion may put on the account during its check. */
  hold?: string;
  /** The "your account was deleted" mail, sent once the deletion is finished (the owner's own deletion only). */
  notice?: { locale: string; email: string; name: string; signedUp?: boolean; emailVerified?: boolean };
  since: number; // epoch ms
  attempts: number;
  /** The forced logout was queued in full (what it ended): a retry sends no subsite its notices again. */
  loggedOut?: { sessions: number; grants: number; deliveries: number };
  /** Why the last try stopped (an error's name and message, never a secret), for the console and the CLI. */
  lastError?: string;
  /** When the next try is due, epoch ms. */
  nextAttemptAt: number;
}

/** How long the request or process working on a deletion holds it; far longer than one deletion takes. */
export const DELETION_LEASE_SECONDS = 120;
/** Retries of a deletion that failed: from half a minute, doubling, up to an hour apart. */
export const DELETION_BACKOFF: Backoff = { baseMs: 30_000, maxMs: 3_600_000 };
/** A due entry with no record older than this is debris of a `begin` cut off between its two writes. */
const ORPHAN_GRACE_MS = 10 * 60_000;
/** Pending deletions the console and the CLI list at most. */
export const PENDING_LIST_LIMIT = 200;

/** A lease on one pending deletion: only its holder works on it. */
export interface DeletionLease {
  userId: string;
  token: string;
}

/**
 * Pending account deletions in the store: one record per account (`account-deletion:{id}`), a
 * sorted set of them by when they are due (`account-deletions:due`), and a lease (SET NX with a
 * TTL) so one request or hub process at a time works on one. As the delivery queue orders its
 * writes: `begin` lists the id as due (at the end of its lease) before writing the record, so a
 * crash between the two leaves a due id without a record (dropped after a grace period), never a
 * record nobody finds; `done` removes the record before the due entry.
 */
export class PendingDeletions {
  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
  ) {}

  /** Takes the lease of the account's deletion; undefined while someone else holds it. */
  async lease(userId: string): Promise<DeletionLease | undefined> {
    const token = randomUUID();
    const taken = await this.store.set(this.keys.accountDeletionLease(userId), token, { onlyIfAbsent: true, ttlSeconds: DELETION_LEASE_SECONDS });
    return taken ? { userId, token } : undefined;
  }

  /** Lets go of a lease (only the holder's own: one that expired and was taken since is left alone). */
  async release(lease: DeletionLease): Promise<void> {
    await this.store.swap(this.keys.accountDeletionLease(lease.userId), lease.token, null);
  }

  /**
   * Records a deletion (under the caller's lease): due when the lease ends, so that should the
   * caller stop, the hub picks it up then. A deletion already recorded for the account is kept
   * and returned as it is (`created` false): the caller decides what to make of it.
   */
  async begin(entry: Omit<PendingDeletion, 'attempts' | 'nextAttemptAt' | 'since'>): Promise<{ pending: PendingDeletion; created: boolean }> {
    const now = Date.now();
    const due = now + DELETION_LEASE_SECONDS * 1000;
    const record: PendingDeletion = { ...entry, since: now, attempts: 0, nextAttemptAt: due };
    await this.store.zAdd(this.keys.accountDeletionsDue(), due, entry.userId);
    const key = this.keys.accountDeletion(entry.userId);
    for (;;) {
      if (await this.store.set(key, JSON.stringify(record), { onlyIfAbsent: true })) return { pending: record, created: true };
      const existing = await this.get(entry.userId);
      if (existing) return { pending: existing, created: false };
      // Finished between the two reads: record this one.
    }
  }

  /** Replaces the record of a deletion (the console's delete of an account whose owner's deletion stopped in its check). */
  async replace(record: PendingDeletion): Promise<void> {
    await this.store.set(this.keys.accountDeletion(record.userId), JSON.stringify(record));
  }

  async get(userId: string): Promise<PendingDeletion | undefined> {
    const raw = await this.store.get(this.keys.accountDeletion(userId));
    return raw ? (JSON.parse(raw) as PendingDeletion) : undefined;
  }

  /**
   * Rewrites the record from what is stored now (compare-and-set); `change` answers undefined to
   * leave it. Undefined when there is no record (finished, or rolled back, meanwhile).
   */
  update(userId: string, change: (pending: PendingDeletion) => PendingDeletion | undefined): Promise<PendingDeletion | undefined> {
    return compareAndSet(this.store, this.keys.accountDeletion(userId), (raw) => {
      if (!raw) return { result: undefined };
      const next = change(JSON.parse(raw) as PendingDeletion);
      return next ? { write: JSON.stringify(next), result: next } : { result: undefined };
    });
  }

  /** A try that stopped: counted, with why, and due again after the backoff. */
  async retryLater(userId: string, error: unknown, now = Date.now()): Promise<void> {
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const updated = await this.update(userId, (pending) => {
      const attempts = pending.attempts + 1;
      return { ...pending, attempts, lastError: why.slice(0, 300), nextAttemptAt: now + backoffDelay(attempts, DELETION_BACKOFF) };
    });
    if (updated) await this.store.zAdd(this.keys.accountDeletionsDue(), updated.nextAttemptAt, userId);
  }

  /** The deletion is finished (or rolled back): its record, then its due entry. */
  async done(userId: string): Promise<void> {
    await this.store.del(this.keys.accountDeletion(userId));
    await this.store.zRemove(this.keys.accountDeletionsDue(), userId);
  }

  /** Accounts whose deletion is due to be resumed at `now`, soonest first, at most `limit`. */
  due(now: number, limit: number): Promise<string[]> {
    return this.store.zRangeByScore(this.keys.accountDeletionsDue(), -Infinity, now, limit);
  }

  /** Drops a due entry without a record once it is older than the grace period (a `begin` cut off between its writes). */
  async dropOrphan(userId: string, now = Date.now()): Promise<void> {
    const stale = await this.store.zRangeByScore(this.keys.accountDeletionsDue(), -Infinity, now - ORPHAN_GRACE_MS, PENDING_LIST_LIMIT);
    if (stale.includes(userId) && !(await this.get(userId))) await this.store.zRemove(this.keys.accountDeletionsDue(), userId);
  }

  /** Pending deletions for the console and the CLI, soonest due first. */
  async list(limit = PENDING_LIST_LIMIT): Promise<PendingDeletion[]> {
    const ids = await this.store.zRangeByScore(this.keys.accountDeletionsDue(), -Infinity, Infinity, limit);
    const raws = await this.store.getMany(ids.map((id) => this.keys.accountDeletion(id)));
    return raws.filter((raw): raw is string => raw !== null).map((raw) => JSON.parse(raw) as PendingDeletion);
  }

  count(): Promise<number> {
    return this.store.zCard(this.keys.accountDeletionsDue());
  }
}
