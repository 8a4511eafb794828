import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { HubError } from '../errors.js';
import type { RedisClient } from '../store/redis.js';
import { StoreUnavailableError } from '../store/store.js';

const DEADLINE_MS = 2_000; // the store's own command deadline: a stalled store is a 503, not a hang

/** One address asked for more sign-ups or verification e-mails than a person does. */
export class TooManySignupsError extends HubError {
  override readonly name = 'TooManySignupsError';
  readonly messageKey = 'signup:errors.too-many';
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'Too many sign-ups from your network. Please wait a while and try again.');
  }
}

export interface SignupLimitOptions {
  perIp: number;
  windowSeconds: number;
  keyPrefix: string;
  redis?: RedisClient;
}

/**
 * Sign-ups and verification e-mails per client address (`SIGNUP_MAX_PER_IP` per
 * `SIGNUP_WINDOW_SECONDS`), shared by every hub process through Redis: each one sends mail and
 * writes an account, so a flood from one address is cut off early.
 */
export class SignupLimit {
  readonly #limiter: RateLimiterAbstract;

  constructor(options: SignupLimitOptions) {
    this.#limiter = options.redis
      ? new RateLimiterRedis({ storeClient: options.redis, useRedisPackage: true, keyPrefix: `${options.keyPrefix}:signup`, points: options.perIp, duration: options.windowSeconds })
      : new RateLimiterMemory({ keyPrefix: 'signup', points: options.perIp, duration: options.windowSeconds });
  }

  /** Counts one request from `ip`: TooManySignupsError over the limit, StoreUnavailableError when the store fails. */
  async count(ip: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#limiter.consume(ip),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('rate limit store timed out')), DEADLINE_MS);
        }),
      ]);
    } catch (error) {
      if (error instanceof RateLimiterRes) throw new TooManySignupsError(Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
      throw new StoreUnavailableError(error);
    } finally {
      clearTimeout(timer);
    }
  }
}
