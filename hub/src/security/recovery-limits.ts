import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { HubError } from '../errors.js';
import type { RedisClient } from '../store/redis.js';
import { StoreUnavailableError } from '../store/store.js';

const DEADLINE_MS = 2_000; // the store's own command deadline: a stalled store is a 503, not a hang

/** One address asked for password resets faster than any person does. */
export class TooManyRecoveryRequestsError extends HubError {
  override readonly name = 'TooManyRecoveryRequestsError';
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'Too many requests came from your network. Please wait a while and try again.');
  }
}

export interface RecoveryLimitOptions {
  requestsPerIp: number;
  mailsPerAccount: number;
  windowSeconds: number;
  keyPrefix: string;
  redis?: RedisClient;
}

/**
 * Limits for what sends mail about an account (password reset, e-mail change):
 *
 * - requests per client address: past it, 429 (says nothing about any account);
 * - mails per account: past it, no more mail this window, with the same answer as before.
 *
 * The account limit caps what the owner's mailbox receives; it never locks the account or
 * refuses the owner anything but another identical mail, so nobody can turn it against them.
 */
export class RecoveryLimits {
  readonly #perIp: RateLimiterAbstract;
  readonly #perAccount: RateLimiterAbstract;

  constructor(options: RecoveryLimitOptions) {
    const make = (suffix: string, points: number) =>
      options.redis
        ? new RateLimiterRedis({ storeClient: options.redis, useRedisPackage: true, keyPrefix: `${options.keyPrefix}:${suffix}`, points, duration: options.windowSeconds })
        : new RateLimiterMemory({ keyPrefix: suffix, points, duration: options.windowSeconds });
    this.#perIp = make('recovery-ip', options.requestsPerIp);
    this.#perAccount = make('recovery-mail', options.mailsPerAccount);
  }

  static async #consume(limiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        limiter.consume(key),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('rate limit store timed out')), DEADLINE_MS);
        }),
      ]);
      return undefined;
    } catch (error) {
      if (error instanceof RateLimiterRes) return error;
      throw new StoreUnavailableError(error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Counts one request from `ip`; throws TooManyRecoveryRequestsError past the limit. */
  async request(ip: string): Promise<void> {
    const over = await RecoveryLimits.#consume(this.#perIp, ip);
    if (over) throw new TooManyRecoveryRequestsError(Math.max(1, Math.ceil(over.msBeforeNext / 1000)));
  }

  /** Counts one mail about the account; false when it has had its share this window (send nothing). */
  async mail(accountId: string): Promise<boolean> {
    return (await RecoveryLimits.#consume(this.#perAccount, accountId)) === undefined;
  }
}
