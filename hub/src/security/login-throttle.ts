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

/** A stranger must fail this many times more than the per-(account, IP) limit to lock an account out everywhere. */
const GLOBAL_ACCOUNT_FACTOR = 10;

/**
 * Sign-in rate limits (OWASP ASVS 6.3): every attempt counts against the client IP.
 * Failures count against the account from that IP (the lockout a guesser meets), and
 * against the account from anywhere, with a ten times higher limit (slows a distributed
 * guesser without letting one stranger lock the owner out). The account key is the user id
 * when the login names a user (so username and e-mail share one counter), else the login
 * itself, so the limits tell nothing about which accounts exist.
 */
export class LoginThrottle {
  readonly #perIp: RateLimiterAbstract;
  readonly #perAccountIp: RateLimiterAbstract;
  readonly #perAccount: RateLimiterAbstract;

  constructor(options: ThrottleOptions) {
    const make = (suffix: string, points: number) =>
      options.redis
        ? new RateLimiterRedis({ storeClient: options.redis, useRedisPackage: true, keyPrefix: `${options.keyPrefix}:${suffix}`, points, duration: options.windowSeconds })
        : new RateLimiterMemory({ keyPrefix: suffix, points, duration: options.windowSeconds });
    this.#perIp = make('ip', options.maxAttemptsPerIp);
    this.#perAccountIp = make('acct-ip', options.maxFailuresPerAccount);
    this.#perAccount = make('acct', options.maxFailuresPerAccount * GLOBAL_ACCOUNT_FACTOR);
  }

  static #accountKey(account: string): string {
    return account.trim().toLowerCase();
  }

  static #pairKey(account: string, ip: string): string {
    return `${LoginThrottle.#accountKey(account)}|${ip}`;
  }

  static #rethrow(error: unknown): never {
    if (error instanceof RateLimiterRes) throw new TooManyAttemptsError(Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
    throw new StoreUnavailableError(error);
  }

  static #locked(state: RateLimiterRes | null, limiter: RateLimiterAbstract): number | undefined {
    return state && state.consumedPoints >= limiter.points ? Math.max(1, Math.ceil(state.msBeforeNext / 1000)) : undefined;
  }

  /**
   * Counts an attempt; throws TooManyAttemptsError when the IP, the account from this IP, or
   * the account from everywhere is over its limit. `account` is the user id when known.
   */
  async attempt(ip: string, account: string): Promise<void> {
    try {
      await this.#perIp.consume(ip);
      const [pair, global] = await Promise.all([
        this.#perAccountIp.get(LoginThrottle.#pairKey(account, ip)),
        this.#perAccount.get(LoginThrottle.#accountKey(account)),
      ]);
      const wait = LoginThrottle.#locked(pair, this.#perAccountIp) ?? LoginThrottle.#locked(global, this.#perAccount);
      if (wait !== undefined) throw new TooManyAttemptsError(wait);
    } catch (error) {
      if (error instanceof TooManyAttemptsError) throw error;
      LoginThrottle.#rethrow(error);
    }
  }

  async failed(account: string, ip: string): Promise<void> {
    const consume = async (limiter: RateLimiterAbstract, key: string) => {
      try {
        await limiter.consume(key);
      } catch (error) {
        if (error instanceof RateLimiterRes) return; // already locked; the next attempt is refused
        LoginThrottle.#rethrow(error);
      }
    };
    await consume(this.#perAccountIp, LoginThrottle.#pairKey(account, ip));
    await consume(this.#perAccount, LoginThrottle.#accountKey(account));
  }

  /** A success clears the failures from this IP; the account-wide count decays on its own. */
  async succeeded(account: string, ip: string): Promise<void> {
    try {
      await this.#perAccountIp.delete(LoginThrottle.#pairKey(account, ip));
    } catch (error) {
      LoginThrottle.#rethrow(error);
    }
  }
}
