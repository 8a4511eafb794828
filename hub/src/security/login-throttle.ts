import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { TooManyAttemptsError } from '../errors.js';
import type { RedisClient } from '../store/redis.js';
import { StoreUnavailableError } from '../store/store.js';

export interface ThrottleOptions {
  maxFailuresPerAccount: number;
  maxAttemptsPerIp: number;
  windowSeconds: number;
  keyPrefix: string;
  redis?: RedisClient;
}

/**
 * Sign-in rate limits: every attempt counts against the client IP; failures count against
 * the account name (known or not, so the limit itself tells nothing about which exist).
 */
export class LoginThrottle {
  readonly #perIp: RateLimiterAbstract;
  readonly #perAccount: RateLimiterAbstract;
  readonly #maxFailures: number;

  constructor(options: ThrottleOptions) {
    const make = (suffix: string, points: number) =>
      options.redis
        ? new RateLimiterRedis({ storeClient: options.redis, useRedisPackage: true, keyPrefix: `${options.keyPrefix}:${suffix}`, points, duration: options.windowSeconds })
        : new RateLimiterMemory({ keyPrefix: suffix, points, duration: options.windowSeconds });
    this.#perIp = make('ip', options.maxAttemptsPerIp);
    this.#perAccount = make('acct', options.maxFailuresPerAccount);
    this.#maxFailures = options.maxFailuresPerAccount;
  }

  static #accountKey(login: string): string {
    return login.trim().toLowerCase();
  }

  static #rethrow(error: unknown): never {
    if (error instanceof RateLimiterRes) throw new TooManyAttemptsError(Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
    throw new StoreUnavailableError(error);
  }

  /** Counts an attempt; throws TooManyAttemptsError when the IP or the account is over its limit. */
  async attempt(ip: string, login: string): Promise<void> {
    try {
      await this.#perIp.consume(ip);
      const account = await this.#perAccount.get(LoginThrottle.#accountKey(login));
      if (account && account.consumedPoints >= this.#maxFailures) {
        throw new TooManyAttemptsError(Math.max(1, Math.ceil(account.msBeforeNext / 1000)));
      }
    } catch (error) {
      if (error instanceof TooManyAttemptsError) throw error;
      LoginThrottle.#rethrow(error);
    }
  }

  async failed(login: string): Promise<void> {
    try {
      await this.#perAccount.consume(LoginThrottle.#accountKey(login));
    } catch (error) {
      if (error instanceof RateLimiterRes) return; // already locked; the next attempt is refused
      LoginThrottle.#rethrow(error);
    }
  }

  async succeeded(login: string): Promise<void> {
    try {
      await this.#perAccount.delete(LoginThrottle.#accountKey(login));
    } catch (error) {
      LoginThrottle.#rethrow(error);
    }
  }
}
