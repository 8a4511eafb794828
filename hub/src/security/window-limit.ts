import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RedisClient } from '../store/redis.js';
import { ioDeadline, type CancelDeadline } from '../store/io-deadline.js';
import { STORE_DEADLINE_MS, StoreUnavailableError } from '../store/store.js';
import { gaveUp, stallWatchOf, type StallWatch } from '../store/stall-watch.js';

const DEADLINE_MS = STORE_DEADLINE_MS; // the store's own command deadline: a stalled store is a 503, not a hang

export interface WindowLimitOptions {
  /** Names the counters: Redis keys are `${keyPrefix}:${name}:${key}`, each expiring with its window. */
  name: string;
  points: number;
  windowSeconds: number;
  keyPrefix: string;
  /** Without it, counts in this process only (the embedded store). */
  redis?: RedisClient;
}

/**
 * A fixed-window counter per key (a client address, an account), shared by every hub process
 * through Redis. The callers turn "over the limit" into their own typed error.
 */
export class WindowLimit {
  readonly #limiter: RateLimiterAbstract;
  /** Shared with the hub's store on the same client: a request whose store call timed out does not wait here again. */
  readonly #stalls: StallWatch | undefined;

  constructor(options: WindowLimitOptions) {
    const { name, points, windowSeconds: duration } = options;
    this.#stalls = options.redis ? stallWatchOf(options.redis) : undefined;
    this.#limiter = options.redis
      ? new RateLimiterRedis({ storeClient: options.redis, useRedisPackage: true, keyPrefix: `${options.keyPrefix}:${name}`, points, duration })
      : new RateLimiterMemory({ keyPrefix: name, points, duration });
  }

  /**
   * Counts one hit on `key`: undefined within the limit, else the seconds to wait (at least 1).
   * Throws StoreUnavailableError when the store fails or does not answer within the deadline.
   */
  async count(key: string): Promise<number | undefined> {
    const stalls = this.#stalls;
    const scope = stalls?.scope();
    if (stalls?.givesUp(scope)) throw new StoreUnavailableError(gaveUp());
    let cancel: CancelDeadline | undefined;
    let timedOut = false;
    let consumed: Promise<unknown> | undefined;
    try {
      consumed = this.#limiter.consume(key);
      await Promise.race([
        consumed,
        new Promise<never>((_, reject) => {
          cancel = ioDeadline(DEADLINE_MS, () => {
            timedOut = true;
            stalls?.timedOut(scope);
            reject(new Error('rate limit store timed out'));
          });
        }),
      ]);
      return undefined;
    } catch (error) {
      if (timedOut && stalls && consumed) consumed.then(stalls.answeredLate, stalls.answeredLate);
      if (error instanceof RateLimiterRes) return Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      throw new StoreUnavailableError(error);
    } finally {
      cancel?.();
    }
  }

  /**
   * Gives back one hit counted on `key` (what it was counted for did not happen: a mail the SMTP
   * server refused). Best effort: a store that fails or stalls here costs the key that hit.
   */
  async refund(key: string): Promise<void> {
    let cancel: CancelDeadline | undefined;
    try {
      await Promise.race([this.#limiter.reward(key, 1), new Promise<void>((resolve) => (cancel = ioDeadline(DEADLINE_MS, resolve)))]);
    } catch {
      // the hit stays counted
    } finally {
      cancel?.();
    }
  }
}
