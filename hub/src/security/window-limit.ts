import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RedisClient } from '../store/redis.js';
import { StoreUnavailableError } from '../store/store.js';

const DEADLINE_MS = 2_000; // the store's own command deadline: a stalled store is a 503, not a hang

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

  constructor(options: WindowLimitOptions) {
    const { name, points, windowSeconds: duration } = options;
    this.#limiter = options.redis
      ? new RateLimiterRedis({ storeClient: options.redis, useRedisPackage: true, keyPrefix: `${options.keyPrefix}:${name}`, points, duration })
      : new RateLimiterMemory({ keyPrefix: name, points, duration });
  }

  /**
   * Counts one hit on `key`: undefined within the limit, else the seconds to wait (at least 1).
   * Throws StoreUnavailableError when the store fails or does not answer within the deadline.
   */
  async count(key: string): Promise<number | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#limiter.consume(key),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('rate limit store timed out')), DEADLINE_MS);
        }),
      ]);
      return undefined;
    } catch (error) {
      if (error instanceof RateLimiterRes) return Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      throw new StoreUnavailableError(error);
    } finally {
      clearTimeout(timer);
    }
  }
}
