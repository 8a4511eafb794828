import pLimit, { type LimitFunction } from 'p-limit';
import { BusyError } from '../errors.js';
import { clientGoneOf, currentRequestHandle } from '../request-context.js';

export interface HashingTurnsOptions {
  /** argon2id operations that may run at once (ARGON2_CONCURRENCY). */
  concurrency: number;
  /** Operations that may wait for a turn; one more is turned away with BusyError (ARGON2_QUEUE_LIMIT). */
  queueLimit: number;
  /** How long one may wait for its turn (ms); one whose turn comes later is turned away with BusyError, not run (ARGON2_QUEUE_WAIT_MS). Unset: no limit. */
  maxWaitMs?: number;
}

/** What a turned-away sign-in is told to wait, in seconds: long enough for part of a full queue to drain, short for a person. */
const BUSY_RETRY_AFTER_SECONDS = 5;

/**
 * Turns for argon2id. Each argon2 operation holds one of libuv's pool threads for its whole
 * run (about 25 ms at the hub's cost), and that pool is shared: oidc-provider's ID-token
 * signatures (jose on WebCrypto), DNS lookups and file reads run there too. Left to the pool,
 * a burst of sign-ins queued every signature behind every waiting check: a refresh or a
 * subsite's code exchange waited 1.6 s behind 100 of them. Here at most `concurrency` run,
 * so the rest of the pool stays free, and at most `queueLimit` wait (by default about ten
 * seconds of work): past that a sign-in is told "busy, try again" at once rather than after a
 * wait that outlasts its browser or proxy.
 *
 * A check whose client has gone by its turn (the browser closed or resubmitted the form, a proxy
 * gave up, the connection was cut) is not run: it throws BusyError like a full queue (nothing was
 * checked, so nothing is counted), and its turn goes to the next one. Before, an outside review
 * sent 1,200 sign-ins at once with clients that gave up after 10 s: the hub went on hashing the
 * 589 still queued for some 30 s after every client had left, and every sign-in arriving then
 * waited behind them.
 *
 * A check whose turn comes more than `maxWaitMs` after it was asked for is not run either, and
 * is answered busy: the queue limit is a count, and on a loaded machine 800 checks took 34 s, past
 * the compose nginx's 30 s read timeout (a 504 from the proxy instead of the hub's busy page).
 */
export class HashingTurns {
  readonly #limit: LimitFunction;
  readonly #queueLimit: number;
  #refused = 0;
  #abandoned = 0;
  #expired = 0;
  readonly #maxWaitMs: number;

  constructor(options: HashingTurnsOptions) {
    this.#limit = pLimit(options.concurrency);
    this.#queueLimit = options.queueLimit;
    this.#maxWaitMs = options.maxWaitMs ?? Infinity;
  }

  /**
   * Runs `operation` in its turn; throws BusyError at once when the queue is full, and when its
   * turn comes after the client of the request it was asked for has gone, or after `maxWaitMs`.
   */
  run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#limit.pendingCount >= this.#queueLimit) {
      this.#refused += 1;
      return Promise.reject(new BusyError(BUSY_RETRY_AFTER_SECONDS));
    }
    const request = currentRequestHandle();
    const asked = performance.now();
    return this.#limit(() => {
      if (clientGoneOf(request)) {
        this.#abandoned += 1;
        return Promise.reject(new BusyError(BUSY_RETRY_AFTER_SECONDS));
      }
      if (performance.now() - asked > this.#maxWaitMs) {
        this.#expired += 1;
        return Promise.reject(new BusyError(BUSY_RETRY_AFTER_SECONDS));
      }
      return operation();
    });
  }

  /** Operations running now. */
  get active(): number {
    return this.#limit.activeCount;
  }

  /** Operations waiting for a turn. */
  get waiting(): number {
    return this.#limit.pendingCount;
  }

  /** Operations turned away (BusyError) since this process started. */
  get refused(): number {
    return this.#refused;
  }

  /** Operations not run because their turn came after `maxWaitMs` (answered busy), since this process started. */
  get expired(): number {
    return this.#expired;
  }

  /** Operations not run because their request's client had gone by their turn, since this process started. */
  get abandoned(): number {
    return this.#abandoned;
  }
}
