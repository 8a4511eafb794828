import { randomUUID } from 'node:crypto';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import type { DeliveryItem, DeliveryStatus, NewDelivery } from './delivery.js';

export interface DeliveryQueueOptions {
  /** How long a delivered item stays listed, in seconds. */
  retentionSeconds: number;
  /** How long a claim holds an item, in seconds; longer than one delivery request can take. */
  leaseSeconds: number;
}

/** A claimed item: only its holder may deliver it and record the outcome. */
export interface Claim {
  item: DeliveryItem;
  token: string;
}

const LIST_LIMIT = 200; // items shown per list in the admin console

/**
 * The delivery queue in the store, shared by every hub process. Items are JSON by id; the
 * `due` sorted set orders pending items by their next attempt. Claiming an item is a
 * `SET NX` lease with a TTL, so two processes never deliver one item at the same time, and
 * an item whose holder died is picked up again once the lease expires.
 *
 * Writes are ordered so a crash between two of them leaves an item that is still found:
 * the item is written before it is indexed, and re-read under the lease before delivery.
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
    const now = Date.now();
    const item: DeliveryItem = {
      id: randomUUID(),
      kind: input.kind,
      clientId: input.clientId,
      sub: input.sub,
      ...(input.sid ? { sid: input.sid } : {}),
      url: input.url,
      status: 'pending',
      attempts: 0,
      createdAt: now,
      nextAttemptAt: now,
    };
    await this.store.set(this.keys.deliveryItem(item.id), JSON.stringify(item));
    await this.store.zAdd(this.keys.deliveryDue(), now, item.id);
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
   * process may have delivered or rescheduled it since the list was read).
   */
  async claimDue(limit: number, now = Date.now()): Promise<Claim[]> {
    const ids = await this.store.zRangeByScore(this.keys.deliveryDue(), -Infinity, now, limit);
    const claims: Claim[] = [];
    for (const id of ids) {
      const claim = await this.#claim(id);
      if (!claim) continue;
      if (claim.item.status !== 'pending') {
        // Finished, but the process that finished it stopped before unlisting it.
        await this.store.zRemove(this.keys.deliveryDue(), id);
        await this.release(claim);
        continue;
      }
      if (claim.item.nextAttemptAt > now) {
        await this.store.zAdd(this.keys.deliveryDue(), claim.item.nextAttemptAt, id);
        await this.release(claim);
        continue;
      }
      claims.push(claim);
    }
    return claims;
  }

  async #claim(id: string): Promise<Claim | undefined> {
    const token = randomUUID();
    const leased = await this.store.set(this.keys.deliveryLease(id), token, { onlyIfAbsent: true, ttlSeconds: this.options.leaseSeconds });
    if (!leased) return undefined;
    const item = await this.get(id);
    if (!item) {
      // An index entry without an item (an item is written before it is indexed, so this is debris).
      await this.store.zRemove(this.keys.deliveryDue(), id);
      await this.store.del(this.keys.deliveryLease(id));
      return undefined;
    }
    return { item, token };
  }

  /** Lets go of an item without recording anything. */
  async release(claim: Claim): Promise<void> {
    // Only the holder deletes its lease; a lease that expired and was taken since is left alone.
    if ((await this.store.get(this.keys.deliveryLease(claim.item.id))) === claim.token) {
      await this.store.del(this.keys.deliveryLease(claim.item.id));
    }
  }

  /** The subsite answered 2xx. */
  async delivered(claim: Claim, change: Partial<DeliveryItem>): Promise<DeliveryItem> {
    const now = Date.now();
    const item: DeliveryItem = { ...claim.item, ...change, status: 'delivered', doneAt: now };
    const ttl = this.options.retentionSeconds;
    await this.store.set(this.keys.deliveryItem(item.id), JSON.stringify(item), { ttlSeconds: ttl });
    await this.store.zAdd(this.keys.deliveryDelivered(), now, item.id);
    await this.store.zRemove(this.keys.deliveryDue(), item.id);
    await this.store.zRemoveByScore(this.keys.deliveryDelivered(), -Infinity, now - ttl * 1000);
    await this.release(claim);
    return item;
  }

  /** Not delivered yet: try again at `nextAttemptAt`. */
  async reschedule(claim: Claim, change: Partial<DeliveryItem>, nextAttemptAt: number): Promise<DeliveryItem> {
    const item: DeliveryItem = { ...claim.item, ...change, status: 'pending', nextAttemptAt };
    await this.store.set(this.keys.deliveryItem(item.id), JSON.stringify(item));
    await this.store.zAdd(this.keys.deliveryDue(), nextAttemptAt, item.id);
    await this.release(claim);
    return item;
  }

  /** Refused for good (a 4xx, or the client is gone): kept for the admin to see and retry. */
  async failed(claim: Claim, change: Partial<DeliveryItem>): Promise<DeliveryItem> {
    const now = Date.now();
    const item: DeliveryItem = { ...claim.item, ...change, status: 'failed', doneAt: now };
    await this.store.set(this.keys.deliveryItem(item.id), JSON.stringify(item));
    await this.store.zAdd(this.keys.deliveryFailed(), now, item.id);
    await this.store.zRemove(this.keys.deliveryDue(), item.id);
    await this.release(claim);
    return item;
  }

  /**
   * The admin's retry: a failed or pending item is due now. Refused (false) while a
   * process is delivering it.
   */
  async retryNow(id: string): Promise<boolean> {
    const claim = await this.#claim(id);
    if (!claim) return false;
    if (claim.item.status === 'delivered') {
      await this.release(claim);
      return false;
    }
    const { doneAt: _doneAt, ...rest } = claim.item;
    const now = Date.now();
    const item: DeliveryItem = { ...rest, status: 'pending', nextAttemptAt: now };
    await this.store.set(this.keys.deliveryItem(id), JSON.stringify(item));
    await this.store.zAdd(this.keys.deliveryDue(), now, id);
    await this.store.zRemove(this.keys.deliveryFailed(), id);
    await this.release(claim);
    this.#notify();
    return true;
  }

  /** Items of one status for the admin console: pending soonest first, the others newest first. */
  async list(status: DeliveryStatus, limit = LIST_LIMIT): Promise<DeliveryItem[]> {
    const ids =
      status === 'pending'
        ? await this.store.zRangeByScore(this.keys.deliveryDue(), -Infinity, Infinity, limit)
        : await this.store.zRevRange(status === 'failed' ? this.keys.deliveryFailed() : this.keys.deliveryDelivered(), 0, limit - 1);
    const raws = await this.store.getMany(ids.map((id) => this.keys.deliveryItem(id)));
    return raws.filter((raw): raw is string => raw !== null).map((raw) => JSON.parse(raw) as DeliveryItem).filter((item) => item.status === status);
  }

  async counts(): Promise<Record<DeliveryStatus, number>> {
    const [pending, failed, delivered] = await Promise.all([
      this.store.zCard(this.keys.deliveryDue()),
      this.store.zCard(this.keys.deliveryFailed()),
      this.store.zCard(this.keys.deliveryDelivered()),
    ]);
    return { pending, failed, delivered };
  }
}
