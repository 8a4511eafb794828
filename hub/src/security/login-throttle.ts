import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { TooManyAttemptsError } from '../errors.js';
import { loginForm } from '../users/login-form.js';
import type { RedisClient } from '../store/redis.js';
import { StoreUnavailableError } from '../store/store.js';
import { addressKey } from './address-key.js';

export interface ThrottleOptions {
  /** Failures a pool (a device, the account's untrusted clients, an account from one IP) takes before delays start. */
  maxFailuresPerAccount: number;
  maxAttemptsPerIp: number;
  /** Failures are counted per window of this many seconds (from a pool's first failure). */
  windowSeconds: number;
  /** The first delay once a pool is over its failures, in seconds; it doubles with every further failure. */
  backoffBaseSeconds: number;
  /** The longest delay, in seconds. */
  backoffMaxSeconds: number;
  /**
   * Failed (and in-flight) password checks one application (`SignInAttempt.app`) may make per
   * window, whatever addresses it reports; unset: no such limit.
   */
  maxFailuresPerApp?: number;
  keyPrefix: string;
  redis?: RedisClient;
}

/** Who is trying to sign in, as the throttle sees it. */
export interface SignInAttempt {
  ip: string;
  /** The user id when the login names a user (username and e-mail share one count), else the typed login. */
  account: string;
  /** The device id of a valid device cookie for this account (a browser that signed in to it before). */
  device?: string;
  /**
   * `portal`: a browser at the hub's sign-in form; without a device cookie it shares the
   * account's untrusted-client pool. `app`: an application passing on its user's password (the
   * password grant, UCenter's user/login): no device cookie, and an address the application
   * reports (it may come from a header its visitor sets), so it is an untrusted client too and
   * shares the account's pool. `session`: a signed-in user proving the password or a code on
   * the hub's account pages: judged per account and IP, so failures from elsewhere never block
   * the owner's own settings.
   */
  via: 'portal' | 'app' | 'session';
  /**
   * The application the password came through, when it reports the address itself (a UCenter
   * application: its registration, `registrationKey`). Its failures share one count per window
   * (`maxFailuresPerApp`): a leaked key that gives every guess a new address still meets a limit.
   * Past it the attempt is refused before anything else is counted (the account's pools, the
   * address), so the limit never slows the owner anywhere else.
   */
  app?: string;
}

type PoolName = 'device' | 'account' | 'pair';

/**
 * An attempt the throttle let through (`attempt()`'s answer), to hand to `failed()` or
 * `succeeded()` once the password or code is checked. It holds a place in its pool's count
 * while it is checked, so attempts in flight count as failures until they are settled.
 */
export interface AdmittedAttempt {
  readonly attempt: SignInAttempt;
  /** The pool and key the attempt was judged by, and counted against in advance. */
  readonly pool: PoolName;
  readonly key: string;
  /** The pool's count with this attempt in it, when it came in. */
  readonly counted: number;
  /** The attempt came past the threshold and holds the pool's one place until it is settled. */
  readonly claimed: boolean;
}

/** How long an attempt past the threshold holds its pool while it is checked, at most (a hub that dies mid-check frees it then). */
const CLAIM_LEASE_SECONDS = 30;

/** Failures are counted per key far beyond any threshold; a count lasts one window. */
const COUNT_CEILING = 1_000_000;

/**
 * Sign-in throttling with OWASP's device cookies ("Slow Down Online Guessing Attacks with
 * Device Cookies"), so that nobody can lock an owner out of a browser they signed in with:
 *
 * - every attempt counts against the client IP (a hard limit per window), except from a
 *   browser with a device cookie for the account: nobody behind the same address (a NAT, a
 *   proxy) can lock a known browser out; a success gives its point back, so the limit is on
 *   failures (and attempts in flight), never on colleagues signing in from one address;
 * - a browser with a valid device cookie for the account is a trusted client: only its own
 *   failures count against it, so failures from anywhere else never slow it down;
 * - untrusted clients share one pool per account: browsers without a device cookie, and the
 *   password grant and UCenter applications (whose addresses are the application's word);
 *   a signed-in user proving the password on the account pages is judged per account and IP;
 *   every failure also feeds the account's pool and the account-and-IP pool;
 * - a pool over its failures is not locked for a fixed time: each further failure doubles the
 *   delay before the next attempt (exponential backoff, capped), answered as `Retry-After`.
 *
 * The account key is the user id when the login names a user, else the login itself, so the
 * limits tell nothing about which accounts exist.
 */
export class LoginThrottle {
  readonly #perIp: RateLimiterAbstract;
  readonly #perApp: RateLimiterAbstract | undefined;
  readonly #pools: Record<PoolName, { failures: RateLimiterAbstract; wait: RateLimiterAbstract }>;
  readonly #options: ThrottleOptions;

  constructor(options: ThrottleOptions) {
    this.#options = options;
    const make = (suffix: string, points: number) =>
      options.redis
        ? new RateLimiterRedis({ storeClient: options.redis, useRedisPackage: true, keyPrefix: `${options.keyPrefix}:${suffix}`, points, duration: options.windowSeconds })
        : new RateLimiterMemory({ keyPrefix: suffix, points, duration: options.windowSeconds });
    const pool = (name: string) => ({ failures: make(name, COUNT_CEILING), wait: make(`${name}-wait`, 1) });
    this.#perIp = make('ip', options.maxAttemptsPerIp);
    this.#perApp = options.maxFailuresPerApp === undefined ? undefined : make('app', options.maxFailuresPerApp);
    this.#pools = { device: pool('dev'), account: pool('acct'), pair: pool('acct-ip') };
  }

  static #accountKey(account: string): string {
    // As logins are looked up: ｚｅｄ and zed are one pool whether or not the account exists, and
    // so are Bob@x and bob@x; ｂob@x (which finds no account) is not bob@x's pool.
    return loginForm(account.trim());
  }

  /** The pools an attempt is judged by (checked) and the ones its failure counts against (fed). */
  #poolsOf(attempt: SignInAttempt): { checked: PoolName; fed: { pool: PoolName; key: string }[] } {
    const account = LoginThrottle.#accountKey(attempt.account);
    if (attempt.device) return { checked: 'device', fed: [{ pool: 'device', key: `${account}|${attempt.device}` }] };
    const fed = [
      { pool: 'account' as const, key: account },
      // The address as every per-address limit counts it (an IPv6 client by its /64): a stolen
      // session on one IPv6 network must not get a fresh pool per address it picks (a review).
      { pool: 'pair' as const, key: `${account}|${addressKey(attempt.ip)}` },
    ];
    return { checked: attempt.via === 'session' ? 'pair' : 'account', fed };
  }

  #keyOf(attempt: SignInAttempt, pool: PoolName): string {
    return this.#poolsOf(attempt).fed.find((entry) => entry.pool === pool)!.key;
  }

  /** The delay after the `failures`-th failure of a pool: none below the threshold, then doubling. */
  delaySeconds(failures: number): number {
    const over = failures - this.#options.maxFailuresPerAccount;
    if (over < 0) return 0;
    return Math.min(this.#options.backoffMaxSeconds, this.#options.backoffBaseSeconds * 2 ** Math.min(over, 30));
  }

  /** The application's count, when the attempt names one and the limit is on. */
  #appOf(attempt: SignInAttempt): string | undefined {
    return this.#perApp && attempt.app !== undefined ? attempt.app : undefined;
  }

  static #storeError(error: unknown): never {
    if (error instanceof RateLimiterRes) throw new TooManyAttemptsError(Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
    throw new StoreUnavailableError(error);
  }

  /**
   * How many attempts the pool an attempt would be judged by takes before its delays start; 1
   * once past them (one attempt at a time, after each delay), 0 while it or the IP waits. Read
   * only: nothing is counted (UCenter's user/logincheck).
   */
  async attemptsLeft(attempt: SignInAttempt): Promise<number> {
    const { checked: pool } = this.#poolsOf(attempt);
    const key = this.#keyOf(attempt, pool);
    const { failures, wait } = this.#pools[pool];
    try {
      const app = this.#appOf(attempt);
      const [ip, waiting, count, appCount] = await Promise.all([attempt.device ? undefined : this.#perIp.get(addressKey(attempt.ip)), wait.get(key), failures.get(key), app !== undefined ? this.#perApp!.get(app) : undefined]);
      if (ip && ip.consumedPoints >= this.#options.maxAttemptsPerIp) return 0;
      if (appCount && appCount.consumedPoints >= this.#options.maxFailuresPerApp!) return 0;
      if (waiting && waiting.consumedPoints > 0 && waiting.msBeforeNext > 0) return 0;
      return Math.max(1, this.#options.maxFailuresPerAccount - (count?.consumedPoints ?? 0));
    } catch (error) {
      return LoginThrottle.#storeError(error);
    }
  }

  /**
   * Counts an attempt; throws TooManyAttemptsError (with the seconds to wait) when the IP is over
   * its limit or the attempt's pool is still waiting out its delay.
   *
   * The attempt is counted against its pool as a failure in advance (one atomic increment), and
   * given back if it succeeds: checking a password takes a while, and a count that only grew
   * after each check let a burst of concurrent guesses all through before the first of them
   * failed. So at most the threshold's worth of attempts are checked at once; past it, one
   * attempt at a time claims the pool (its delay starts at once, lifted if it succeeds) and the
   * others are refused with the time to wait.
   */
  async attempt(attempt: SignInAttempt): Promise<AdmittedAttempt> {
    const { checked: pool } = this.#poolsOf(attempt);
    const key = this.#keyOf(attempt, pool);
    const { failures, wait } = this.#pools[pool];
    try {
      // Independent: sent together (one store round trip); the IP's verdict comes first. A
      // browser with the account's device cookie is judged by its own failures only.
      const app = this.#appOf(attempt);
      const [overIp, waiting, count, overApp] = await Promise.all([
        attempt.device ? undefined : this.#perIp.consume(addressKey(attempt.ip)).then(() => undefined, (refused: unknown) => refused),
        wait.get(key),
        failures.consume(key),
        app !== undefined ? this.#perApp!.consume(app).then(() => undefined, (refused: unknown) => refused) : undefined,
      ]);
      const waitMs = waiting && waiting.consumedPoints > 0 ? waiting.msBeforeNext : 0;
      if (overApp !== undefined) {
        // The application is over its limit: refused first, and nothing else keeps a count of it
        // (the account's pool, the address), so a flood through one application never slows the
        // owner at the hub or at another application. Its own count keeps the point: every
        // further try meets the limit until the window ends.
        if (!(overApp instanceof RateLimiterRes)) throw overApp;
        await Promise.all([failures.reward(key, 1), attempt.device || overIp !== undefined ? undefined : this.#perIp.reward(addressKey(attempt.ip), 1)]);
        throw new TooManyAttemptsError(Math.max(1, Math.ceil(overApp.msBeforeNext / 1000)), 'application');
      }
      if (overIp !== undefined || waitMs > 0) {
        // Refused: it takes no count (the application's neither: nothing was checked).
        await Promise.all([failures.reward(key, 1), app !== undefined ? this.#perApp!.reward(app, 1) : undefined]);
        if (overIp !== undefined) throw overIp;
        throw new TooManyAttemptsError(Math.max(1, Math.ceil(waitMs / 1000)));
      }
      const counted = count.consumedPoints;
      if (this.delaySeconds(counted - 1) === 0) return { attempt, pool, key, counted, claimed: false }; // the failures before it call for no delay
      // Past the threshold: the first attempt here claims the pool while it is checked (a
      // short lease: its failure sets the pool's real delay, its success lifts the claim);
      // whoever comes while it is held is refused and takes no count.
      try {
        // Never longer than the delay its failure would set: a refused attempt is not told to wait more than that.
        await wait.consume(key, 1, { customDuration: Math.min(CLAIM_LEASE_SECONDS, this.delaySeconds(counted)) });
      } catch (refused) {
        await Promise.all([failures.reward(key, 1), app !== undefined ? this.#perApp!.reward(app, 1) : undefined]);
        throw refused;
      }
      return { attempt, pool, key, counted, claimed: true };
    } catch (error) {
      if (error instanceof TooManyAttemptsError) throw error;
      LoginThrottle.#storeError(error);
    }
  }

  /**
   * Counts a failure against the attempt's pools; a pool over its failures waits, longer each
   * time. The pool the attempt was judged by counted it when it came in; its delay is the one
   * its count calls for now, attempts still being checked included (failures settled side by
   * side then set the same delay, whatever their order; past the threshold it replaces the
   * attempt's claim).
   */
  async failed(admitted: AdmittedAttempt): Promise<void> {
    try {
      for (const { pool, key } of this.#poolsOf(admitted.attempt).fed) {
        const { failures, wait } = this.#pools[pool];
        const now = pool === admitted.pool ? (await failures.get(key))?.consumedPoints : undefined;
        // Another pool, or the count lapsed (its window ended) while the attempt was checked: counted now.
        const counted = now === undefined ? (await failures.consume(key)).consumedPoints : Math.max(now, admitted.counted);
        const delay = this.delaySeconds(counted);
        if (delay > 0) await wait.block(key, delay);
      }
    } catch (error) {
      LoginThrottle.#storeError(error);
    }
  }

  /**
   * Runs the password check of an admitted attempt. If the check throws (too many checks
   * waiting: BusyError; the store), it checked nothing: the attempt is given back before the
   * error goes on, so it counts as no attempt.
   */
  async checking<T>(admitted: AdmittedAttempt, check: () => Promise<T>): Promise<T> {
    try {
      return await check();
    } catch (error) {
      await this.release(admitted).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Gives back an admitted attempt that was never checked (the check failed on the store, the
   * hub, anything but the password): its count and any claim, so an outage in the middle of a
   * sign-in neither counts as a wrong password nor holds the pool.
   */
  async release(admitted: AdmittedAttempt): Promise<void> {
    const { failures, wait } = this.#pools[admitted.pool];
    try {
      await Promise.all([
        failures.reward(admitted.key, 1),
        admitted.claimed ? wait.delete(admitted.key) : undefined,
        admitted.attempt.device ? undefined : this.#perIp.reward(addressKey(admitted.attempt.ip), 1),
        this.#appOf(admitted.attempt) !== undefined ? this.#perApp!.reward(this.#appOf(admitted.attempt)!, 1) : undefined,
      ]);
    } catch (error) {
      LoginThrottle.#storeError(error);
    }
  }

  /**
   * A password reset proved the account's owner: the account's shared pool and its pool from
   * this IP start again, so the owner can sign in with the new password at once. (Device pools
   * are per browser and decay on their own.)
   */
  async clearAccount(account: string, ip: string): Promise<void> {
    const key = LoginThrottle.#accountKey(account);
    const pair = `${key}|${addressKey(ip)}`;
    try {
      await Promise.all([
        this.#pools.account.failures.delete(key),
        this.#pools.account.wait.delete(key),
        this.#pools.pair.failures.delete(pair),
        this.#pools.pair.wait.delete(pair),
      ]);
    } catch (error) {
      LoginThrottle.#storeError(error);
    }
  }

  /**
   * A success clears the failures of the pool it came through: the device's, or the account's
   * from this IP. The account's untrusted pool decays on its own (a success cannot come from it
   * while it waits, and an attacker must not be able to reset it by signing in elsewhere); it
   * only gets back the count this attempt took in advance, and the place it claimed.
   * It also gives the IP back the point its attempt took: the per-IP limit counts failures and
   * attempts in flight, so people signing in behind one address (an office's NAT, new browsers
   * without a device cookie) are never refused for each other's successes.
   */
  async succeeded(admitted: AdmittedAttempt): Promise<void> {
    const { attempt } = admitted;
    const pool = attempt.device ? 'device' : 'pair';
    const key = this.#keyOf(attempt, pool);
    try {
      // Sent together: node-redis writes them in one go.
      await Promise.all([
        this.#pools[pool].failures.delete(key),
        this.#pools[pool].wait.delete(key),
        attempt.device ? undefined : this.#perIp.reward(addressKey(attempt.ip), 1),
        // The application's count is of failures too: its members signing in are never refused for each other.
        this.#appOf(attempt) !== undefined ? this.#perApp!.reward(this.#appOf(attempt)!, 1) : undefined,
        admitted.pool === 'account' ? this.#pools.account.failures.reward(admitted.key, 1) : undefined,
        admitted.pool === 'account' && admitted.claimed ? this.#pools.account.wait.delete(admitted.key) : undefined,
      ]);
    } catch (error) {
      LoginThrottle.#storeError(error);
    }
  }
}
