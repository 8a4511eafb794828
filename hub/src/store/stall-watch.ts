import { STORE_DEADLINE_MS } from './store.js';

/**
 * What the store's deadlines learnt about a stalled Redis (connected, but not answering), kept
 * for the request that learnt it. A sign-out used to run three store calls one after another
 * while Redis was stalled, each waiting out the full deadline: 6 s before its 503. Once a call
 * of a request has run out its deadline, the request's later calls are given up at once, with
 * the same StoreUnavailableError (the same 503), while all of these hold:
 *
 * - the request is still being answered: the mark is on the request's own context object (the
 *   portal's, or oidc-provider's for a protocol request) and is not read once its answer has
 *   ended, so work that outlives the request (a delivery, the audit log's next batch) never
 *   sees it;
 * - less than one deadline has passed since the call timed out;
 * - Redis has not answered since: some call that timed out is still waiting for its reply. On
 *   one connection replies come in order, so a new call could not be answered before it. The
 *   moment Redis answers again, nothing is given up, for this request or any other.
 *
 * Nothing is shared between requests: a healthy Redis never looks down because another
 * request timed out, and a process-wide breaker's risk (failing calls that would have
 * succeeded, for everyone, until a probe gets through) does not arise.
 */
export class StallWatch {
  /** Calls failed by their deadline whose reply (or error) has not come yet. */
  #overdue = 0;
  /** Request context → when one of its calls timed out (epoch ms). */
  readonly #timedOutAt = new WeakMap<object, number>();
  #capture: () => unknown = () => undefined;
  #resolve: (captured: unknown) => object | undefined = (captured) => captured as object | undefined;

  constructor(readonly windowMs: number) {}

  /**
   * How to find the request a call belongs to, while it is being answered (request-context.ts,
   * set by createHub). Without it (the CLI, a bare store) nothing is ever given up early.
   * `capture` runs for every call, so it only takes what the request's scope is found from
   * (the request's raw async context); `resolve` turns that into the scope, or undefined once
   * the request's answer has ended, and runs only when it matters: a call starting while some
   * call is overdue, or a deadline firing. (A request whose answer has ended by the time its
   * call's deadline fires is not marked; it would not have been read: a mark is only read
   * while the answer is still being written.) Without `resolve`, what `capture` answers is the scope.
   */
  scopeBy(capture: () => unknown, resolve?: (captured: unknown) => object | undefined): void {
    this.#capture = capture;
    this.#resolve = resolve ?? ((captured) => captured as object | undefined);
  }

  /** What the request of a call starting now is found from: taken before the call, since its deadline fires in another context. */
  scope(): unknown {
    return this.#capture();
  }

  /** Whether a call of `scope` (what {@link scope} took) starting now is given up at once (see the class). */
  givesUp(scope: unknown): boolean {
    if (scope === undefined || this.#overdue === 0) return false;
    const request = this.#resolve(scope);
    if (request === undefined) return false;
    const at = this.#timedOutAt.get(request);
    if (at === undefined) return false;
    if (Date.now() - at < this.windowMs) return true;
    this.#timedOutAt.delete(request);
    return false;
  }

  /** A call of `scope` ran out its deadline without an answer. */
  timedOut(scope: unknown): void {
    this.#overdue += 1;
    const request = scope === undefined ? undefined : this.#resolve(scope);
    if (request !== undefined) this.#timedOutAt.set(request, Date.now());
  }

  /** A call that had timed out was answered (or failed) after all: Redis is talking again. */
  readonly answeredLate = (): void => {
    if (this.#overdue > 0) this.#overdue -= 1;
  };

  /** Calls timed out and not answered yet (tests). */
  get overdue(): number {
    return this.#overdue;
  }
}

/** The store's deadline (redis.ts, portal-session.ts, window-limit.ts): the window a request's mark lasts. */
const WINDOW_MS = STORE_DEADLINE_MS;

const watches = new WeakMap<object, StallWatch>();

/**
 * The one watch of a Redis client, shared by everything that sends commands on it with a
 * deadline of its own (the store, the portal session store, the rate limiters).
 */
export function stallWatchOf(client: object): StallWatch {
  let watch = watches.get(client);
  if (!watch) watches.set(client, (watch = new StallWatch(WINDOW_MS)));
  return watch;
}

/** The cause of a call given up at once. */
export function gaveUp(): Error {
  return new Error('not sent: an earlier store call of this request timed out and Redis has not answered since');
}
