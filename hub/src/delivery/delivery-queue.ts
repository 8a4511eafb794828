import { randomUUID } from 'node:crypto';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import type { DeliveryItem, DeliveryStatus, NewDelivery } from './delivery.js';

export interface DeliveryQueueOptions {
  /** How long a delivered item stays listed, in seconds. */
  retentionSeconds: number;
  /** How long a claim holds an item, in seconds; longer than one delivery request can take. */
  leaseSeconds: number;
  /** How long an item that failed for good stays listed (for the admin's retry), in seconds. */
  failedRetentionSeconds?: number;
  /**
   * At most this many delivered items stay listed (and stored); the oldest go first
   * (default {@link DEFAULT_MAX_DELIVERED}). A delivered item has nothing left to do: it is
   * history for the console.
   */
  maxDelivered?: number;
  /**
   * How long a due entry whose item does not exist is left alone, in seconds: `enqueue`
   * lists an item as due before writing it, so a missing item may be one being written.
   */
  orphanGraceSeconds?: number;
  /**
   * The generation of the client registered under an id now (`ClientRegistry.generationOf`),
   * stamped on each item as it is queued, so the worker can tell a client removed and
   * registered again since from the one the notice was meant for.
   */
  clientGeneration?: (clientId: string) => string | undefined | Promise<string | undefined>;
}

/** Failed items are kept for the admin for 30 days, then trimmed like delivered ones. */
export const DEFAULT_FAILED_RETENTION_SECONDS = 30 * 86_400;
/**
 * Delivered items kept at most (about 0.6 KB each with their list entry: some 60 MB). Any
 * signed-in user queues one with each sign-out (a back-channel notice per subsite the session
 * signed in to), so the retention alone let one account on a few addresses grow Redis by
 * hundreds of megabytes a week.
 */
export const DEFAULT_MAX_DELIVERED = 100_000;
/** Delivered items past the cap dropped by one finish at most (each finish adds one). */
const CAP_TRIM_BATCH = 500;
/** Far longer than the two writes of one `enqueue` can be apart; only crash debris waits this long. */
export const DEFAULT_ORPHAN_GRACE_SECONDS = 10 * 60;

/** A claimed item: only its holder may deliver it and record the outcome. */
export interface Claim {
  item: DeliveryItem;
  token: string;
}

/** How long an admin's retry waits for the lease of an item a worker is finishing as failed. */
const FINISHING_WAIT_MS = 1_000;

const LIST_LIMIT = 200; // items shown per list in the admin console

/**
 * How many ids of one list a listing or bulk retry for one subsite reads at most (each read
 * and parsed), in windows of {@link FILTER_WINDOW}: a subsite back from maintenance may have
 * thousands of notices waiting behind other subsites' items.
 */
export const FILTER_SCAN_LIMIT = 20_000;
const FILTER_WINDOW = 500;
/** How many items one bulk retry makes due at once; pressing it again takes the next ones. */
export const BULK_RETRY_LIMIT = 2_000;

/**
 * With a filter, one `claimDue` examines at most this many due ids (each read and parsed):
 * items a subsite at its cap may not take are walked past, and this bounds that walk.
 */
export const CLAIM_SCAN_LIMIT = 1_024;

/** What the worker makes of a due item before it is leased: take it, leave it due, or move it on. */
export type Admission = 'claim' | 'skip' | 'defer';

/** How `claimDue` picks among due items (the worker's cap per subsite). */
export interface ClaimFilter {
  /**
   * Asked of each pending, due item before it is leased, with how many items of the same client
   * this call has claimed so far (leases taken, not items admitted).
   */
  admit(item: DeliveryItem, claimedForClient: number): Admission;
  /** How far past `now` a deferred item's due entry is moved, in milliseconds. */
  deferMs: number;
}

/**
 * The delivery queue in the store, shared by every hub process. Items are JSON by id; the
 * `due` sorted set orders pending items by their next attempt. Claiming an item is a
 * `SET NX` lease with a TTL, so two processes never deliver one item at the same time, and
 * an item whose holder died is picked up again once the lease expires.
 *
 * Writes are ordered so a crash between two of them never leaves an item nobody finds:
 * - `enqueue` lists the id as due first, then writes the item. A crash in between leaves a
 *   due id without an item (the caller saw the error; nothing was promised), which
 *   `claimDue` drops once it is older than a grace period. The reverse order could leave a
 *   pending item in no list at all, never delivered and invisible to the admin.
 * - Finishing an item (delivered, failed) writes it, lists it under its status, then unlists
 *   it from `due`; an item left in `due` after a crash is re-listed by `claimDue`.
 * Items are re-read under the lease before delivery.
 */
export class DeliveryQueue {
  readonly #listeners = new Set<() => void>();

  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
    private readonly options: DeliveryQueueOptions,
  ) {}

  /** Called whenever something became due now (a new item, a retry): the worker wakes up. */
  onDue(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }

  async enqueue(input: NewDelivery): Promise<DeliveryItem> {
    const generation = input.clientGeneration ?? (await this.options.clientGeneration?.(input.clientId));
    const now = Date.now();
    const item: DeliveryItem = {
      id: randomUUID(),
      kind: input.kind,
      clientId: input.clientId,
      sub: input.sub,
      ...(input.sid ? { sid: input.sid } : {}),
      ...(input.reason ? { reason: input.reason } : {}),
      ...(input.ucenterUid !== undefined ? { ucenterUid: input.ucenterUid } : {}),
      ...(input.username ? { username: input.username } : {}),
      url: withoutUserinfo(input.url),
      ...(generation !== undefined ? { clientGeneration: generation } : {}),
      status: 'pending',
      attempts: 0,
      createdAt: now,
      nextAttemptAt: now,
    };
    // Due first, then the item (see the class comment): the due entry's score stays `now`
    // until the item exists, which is how `claimDue` tells an orphan's age.
    await this.store.zAdd(this.keys.deliveryDue(), now, item.id);
    await this.store.set(this.keys.deliveryItem(item.id), JSON.stringify(item));
    this.#notify();
    return item;
  }

  async get(id: string): Promise<DeliveryItem | undefined> {
    const raw = await this.store.get(this.keys.deliveryItem(id));
    return raw ? (JSON.parse(raw) as DeliveryItem) : undefined;
  }

  /**
   * Claims up to `limit` items that are due. An id listed as due is claimed only when its
   * lease is free and, re-read under the lease, it is still pending and due (another
   * process may have delivered or rescheduled it since the list was read). Ids leased by
   * another process (or by a dead one, until the lease lapses) are skipped: the due list is
   * read in growing windows until `limit` claims succeed or the due ids run out.
   *
   * With a `filter` (the worker's cap per subsite), each window's items are read in one wait
   * and the filter is asked of each pending, due one before it is leased: an item it skips is
   * left due, one it defers has its due entry moved `deferMs` on (one write for the call), and
   * the walk goes on past both, over at most {@link CLAIM_SCAN_LIMIT} ids. Before, the walk was
   * unbounded and a turned-down item stayed at the head of the list: with 20,000 items of a
   * black-holed subsite ahead, every round (one per finished delivery) read all 20,000.
   */
  async claimDue(limit: number, now = Date.now(), filter?: ClaimFilter): Promise<Claim[]> {
    const claims: Claim[] = [];
    if (limit <= 0) return claims;
    const deferred: string[] = [];
    await this.#walk(claims, deferred, limit, now, filter);
    if (filter && deferred.length > 0) {
      // Only the due entry moves: the record, and so a process delivering the item meanwhile,
      // is untouched; an entry moved past a finished or rescheduled item is set right by the
      // walk that reaches it (listed under its status, or due again at its own time). A failed
      // write leaves the items where they were: the next walk sees them again.
      const at = now + filter.deferMs;
      await this.store.zAddMany(this.keys.deliveryDue(), deferred.map((member) => ({ score: at, member }))).catch(() => undefined);
    }
    return claims;
  }

  /** The walk of {@link claimDue}: fills `claims` and lists in `deferred` the ids to move on. */
  async #walk(claims: Claim[], deferred: string[], limit: number, now: number, filter: ClaimFilter | undefined): Promise<void> {
    const due = this.keys.deliveryDue();
    const tried = new Set<string>();
    const claimedPerClient = new Map<string, number>(); // by this call: the filter's count
    for (let window = filter ? Math.min(limit, CLAIM_SCAN_LIMIT) : limit; ; window = filter ? Math.min(window * 2, CLAIM_SCAN_LIMIT) : window * 2) {
      const listedIds = await this.store.zRangeByScore(due, -Infinity, now, window);
      const ids = listedIds.filter((id) => !tried.has(id));
      const items = filter ? await this.#readMany(ids) : undefined;
      let stale: Set<string> | undefined; // due ids listed before the orphan grace period, read when needed
      for (const id of ids) {
        tried.add(id);
        const listed = items?.get(id);
        if (filter && listed && listed.status === 'pending' && listed.nextAttemptAt <= now) {
          const admission = filter.admit(listed, claimedPerClient.get(listed.clientId) ?? 0);
          if (admission === 'defer') deferred.push(id);
          if (admission !== 'claim') continue;
        }
        const claim = await this.#claim(id);
        if (claim === 'leased') continue;
        if (claim === 'missing') {
          // No item: either an `enqueue` between its two writes, or debris of one that crashed
          // there. Only an entry older than the grace period is debris. (-Infinity, now - grace]
          // is a prefix of (-Infinity, now], so the same window holds every stale id of `ids`.)
          stale ??= new Set(await this.store.zRangeByScore(due, -Infinity, now - this.#orphanGraceMs, window));
          if (stale.has(id)) await this.store.zRemove(due, id);
          continue;
        }
        if (claim.item.status !== 'pending') {
          // Finished, but the process that finished it stopped before listing it under its
          // status and unlisting it: listed first, so it is never in no list at all.
          const doneAt = claim.item.doneAt ?? now;
          await this.store.zAdd(claim.item.status === 'failed' ? this.keys.deliveryFailed() : this.keys.deliveryDelivered(), doneAt, id);
          await this.store.zRemove(due, id);
          await this.release(claim);
          continue;
        }
        if (claim.item.nextAttemptAt > now) {
          await this.store.zAdd(due, claim.item.nextAttemptAt, id);
          await this.release(claim);
          continue;
        }
        claims.push(claim);
        const { clientId } = claim.item;
        claimedPerClient.set(clientId, (claimedPerClient.get(clientId) ?? 0) + 1);
        if (claims.length >= limit) return;
      }
      if (listedIds.length < window) return; // the whole due range was read
      if (filter && window >= CLAIM_SCAN_LIMIT) return; // as far as one call looks
    }
  }

  /** The items of `ids` in one read, by id (orphans and items being written are absent). */
  async #readMany(ids: string[]): Promise<Map<string, DeliveryItem>> {
    const items = new Map<string, DeliveryItem>();
    if (ids.length === 0) return items;
    const raws = await this.store.getMany(ids.map((id) => this.keys.deliveryItem(id)));
    ids.forEach((id, index) => {
      const raw = raws[index];
      if (raw) items.set(id, JSON.parse(raw) as DeliveryItem);
    });
    return items;
  }

  get #orphanGraceMs(): number {
    return (this.options.orphanGraceSeconds ?? DEFAULT_ORPHAN_GRACE_SECONDS) * 1000;
  }

  async #claim(id: string): Promise<Claim | 'leased' | 'missing'> {
    const token = randomUUID();
    const leased = await this.store.set(this.keys.deliveryLease(id), token, { onlyIfAbsent: true, ttlSeconds: this.options.leaseSeconds });
    if (!leased) return 'leased';
    const item = await this.get(id);
    if (!item) {
      await this.store.del(this.keys.deliveryLease(id));
      return 'missing';
    }
    return { item, token };
  }

  /** Lets go of an item without recording anything. */
  /**
   * The lease for an admin's retry. A worker finishing an item writes it failed and lists it
   * before it lets go of its lease, so the console can show a failed item, with its retry button,
   * whose lease is still held for those few writes: such a lease is waited for, up to
   * {@link FINISHING_WAIT_MS}. Before, the press in that moment did nothing and said the item was
   * being delivered (a delivery review; `hub/test/delivery-retry-finishing.test.ts`). A lease on a
   * pending item is a delivery in flight: not waited for.
   */
  async #claimFinished(id: string): Promise<Claim | 'leased' | 'missing'> {
    const until = Date.now() + FINISHING_WAIT_MS;
    for (;;) {
      const claim = await this.#claim(id);
      if (claim !== 'leased' || Date.now() >= until) return claim;
      if ((await this.get(id))?.status !== 'failed') return claim;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async release(claim: Claim): Promise<void> {
    // Only the holder deletes its lease; a lease that expired and was taken since is left alone.
    if ((await this.store.get(this.keys.deliveryLease(claim.item.id))) === claim.token) {
      await this.store.del(this.keys.deliveryLease(claim.item.id));
    }
  }

  /** The subsite answered 2xx. */
  delivered(claim: Claim, change: Partial<DeliveryItem>): Promise<DeliveryItem> {
    return this.#finish(claim, change, 'delivered', this.keys.deliveryDelivered(), this.options.retentionSeconds);
  }

  /** Not delivered yet: try again at `nextAttemptAt`. */
  async reschedule(claim: Claim, change: Partial<DeliveryItem>, nextAttemptAt: number): Promise<DeliveryItem> {
    const item: DeliveryItem = { ...claim.item, ...change, status: 'pending', nextAttemptAt };
    await this.store.set(this.keys.deliveryItem(item.id), JSON.stringify(item));
    await this.store.zAdd(this.keys.deliveryDue(), nextAttemptAt, item.id);
    await this.release(claim);
    return item;
  }

  /**
   * Refused for good (a 4xx, the client is gone, retried for too long): kept for the admin
   * to see and retry, for `failedRetentionSeconds` (then trimmed like delivered items).
   */
  failed(claim: Claim, change: Partial<DeliveryItem>): Promise<DeliveryItem> {
    return this.#finish(claim, change, 'failed', this.keys.deliveryFailed(), this.options.failedRetentionSeconds ?? DEFAULT_FAILED_RETENTION_SECONDS);
  }

  /** A finished item: stored with its retention, listed, off the due list, older ones trimmed. */
  async #finish(claim: Claim, change: Partial<DeliveryItem>, status: 'delivered' | 'failed', listKey: string, ttl: number): Promise<DeliveryItem> {
    const now = Date.now();
    const item: DeliveryItem = { ...claim.item, ...change, status, doneAt: now };
    await this.store.set(this.keys.deliveryItem(item.id), JSON.stringify(item), { ttlSeconds: ttl });
    await this.store.zAdd(listKey, now, item.id);
    await this.store.zRemove(this.keys.deliveryDue(), item.id);
    await this.store.zRemoveByScore(listKey, -Infinity, now - ttl * 1000);
    if (status === 'delivered') await this.#capDelivered();
    await this.release(claim);
    return item;
  }

  /** The oldest delivered items beyond the cap leave the list, and their records go with them. */
  async #capDelivered(): Promise<void> {
    const listKey = this.keys.deliveryDelivered();
    const over = (await this.store.zCard(listKey)) - (this.options.maxDelivered ?? DEFAULT_MAX_DELIVERED);
    if (over <= 0) return;
    const oldest = await this.store.zRangeByScore(listKey, -Infinity, Infinity, Math.min(over, CAP_TRIM_BATCH));
    await Promise.all(oldest.map((id) => this.store.zRemove(listKey, id)));
    await this.store.del(...oldest.map((id) => this.keys.deliveryItem(id)));
  }

  /**
   * The admin's retry: a failed or pending item is due now. Refused (false) while a
   * process is delivering it.
   */
  async retryNow(id: string): Promise<boolean> {
    const claim = await this.#claimFinished(id);
    if (claim === 'leased' || claim === 'missing') return false;
    if (claim.item.status === 'delivered') {
      await this.release(claim);
      return false;
    }
    const { doneAt: _doneAt, ...rest } = claim.item;
    const now = Date.now();
    const item: DeliveryItem = { ...rest, status: 'pending', nextAttemptAt: now };
    // Listed as due before it is written pending (without the expiry a failed item has): a
    // crash in between leaves a failed item in `due`, which `claimDue` lists back as failed.
    await this.store.zAdd(this.keys.deliveryDue(), now, id);
    await this.store.set(this.keys.deliveryItem(id), JSON.stringify(item));
    await this.store.zRemove(this.keys.deliveryFailed(), id);
    await this.release(claim);
    this.#notify();
    return true;
  }

  /**
   * Items of one status for the admin console: pending soonest first, the others newest first;
   * with `clientId`, only that subsite's (read past other subsites' items, up to
   * {@link FILTER_SCAN_LIMIT} ids of the list).
   */
  async list(status: DeliveryStatus, limit = LIST_LIMIT, clientId?: string): Promise<DeliveryItem[]> {
    if (clientId !== undefined) return (await this.listOf(status, clientId, limit)).items;
    const ids =
      status === 'pending'
        ? await this.store.zRangeByScore(this.keys.deliveryDue(), -Infinity, Infinity, limit)
        : await this.store.zRevRange(status === 'failed' ? this.keys.deliveryFailed() : this.keys.deliveryDelivered(), 0, limit - 1);
    const raws = await this.store.getMany(ids.map((id) => this.keys.deliveryItem(id)));
    return raws.filter((raw): raw is string => raw !== null).map((raw) => JSON.parse(raw) as DeliveryItem).filter((item) => item.status === status);
  }

  /**
   * Makes a subsite's pending (or failed) items due now, up to {@link BULK_RETRY_LIMIT} of them:
   * for a subsite back from maintenance, whose notices would otherwise wait for their backoff
   * (up to `DELIVERY_BACKOFF_MAX_MS`, an hour by default), or failed for good while it answered
   * a maintenance page. Items leased at the moment (being delivered) are left to their attempt.
   * @returns how many were made due, and whether more are left for another press.
   */
  async retryAllOf(clientId: string, status: 'pending' | 'failed'): Promise<{ retried: number; more: boolean }> {
    const { items, more } = await this.#itemsOf(status, clientId, BULK_RETRY_LIMIT);
    let retried = 0;
    for (const item of items) if (await this.retryNow(item.id)) retried += 1;
    return { retried, more };
  }

  /** One subsite's items of one status, as `list` shows them, and whether there are more than `limit` (the console says so). */
  listOf(status: DeliveryStatus, clientId: string, limit = LIST_LIMIT): Promise<{ items: DeliveryItem[]; more: boolean }> {
    return this.#itemsOf(status, clientId, limit);
  }

  /** Up to `limit` items of one status and subsite, in the order `list` shows them; `more` when there may be others. */
  async #itemsOf(status: DeliveryStatus, clientId: string, limit: number): Promise<{ items: DeliveryItem[]; more: boolean }> {
    const key = status === 'pending' ? this.keys.deliveryDue() : status === 'failed' ? this.keys.deliveryFailed() : this.keys.deliveryDelivered();
    const items: DeliveryItem[] = [];
    let more = false;
    for (let start = 0; ; start += FILTER_WINDOW) {
      if (start >= FILTER_SCAN_LIMIT) {
        more = true;
        break;
      }
      const ids = await this.store.zRevRange(key, start, start + FILTER_WINDOW - 1);
      const raws = await this.store.getMany(ids.map((id) => this.keys.deliveryItem(id)));
      for (const raw of raws) {
        const item = raw === null ? undefined : (JSON.parse(raw) as DeliveryItem);
        if (item?.status === status && item.clientId === clientId) items.push(item);
      }
      if (ids.length < FILTER_WINDOW) break;
      // Failed and delivered lists are read newest first, the order they are shown in: once one
      // more than the limit is found, the rest is not needed. The due list is shown soonest first,
      // the reverse of this walk, so it is read through (up to FILTER_SCAN_LIMIT).
      if (status !== 'pending' && items.length > limit) break;
    }
    // The due list was read latest first: pending items are shown soonest first.
    if (status === 'pending') items.sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
    if (items.length > limit) more = true;
    return { items: items.slice(0, limit), more };
  }

  async counts(): Promise<Record<DeliveryStatus, number>> {
    // Finished items expire on their own; their ids leave the lists here too, not only when
    // another item of that status finishes (after a quiet spell the console and the
    // `sso_delivery_queue` gauge counted items long gone).
    const now = Date.now();
    await Promise.all([
      this.store.zRemoveByScore(this.keys.deliveryDelivered(), -Infinity, now - this.options.retentionSeconds * 1000),
      this.store.zRemoveByScore(this.keys.deliveryFailed(), -Infinity, now - (this.options.failedRetentionSeconds ?? DEFAULT_FAILED_RETENTION_SECONDS) * 1000),
    ]);
    const [pending, failed, delivered] = await Promise.all([
      this.store.zCard(this.keys.deliveryDue()),
      this.store.zCard(this.keys.deliveryFailed()),
      this.store.zCard(this.keys.deliveryDelivered()),
    ]);
    return { pending, failed, delivered };
  }
}

/** A URL as kept on an item: never its user name or password. */
export function withoutUserinfo(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    // Not a URL: drop anything that looks like userinfo in its authority.
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1');
  }
}
