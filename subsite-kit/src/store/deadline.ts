import { randomUUID } from 'node:crypto';
import session from 'express-session';
import { KitError, TemporarilyUnavailable, describeError } from '../errors.js';
import type { KitStore } from './store.js';
import { hasFixedLifetime, isUpdatable } from './session-stores.js';

/** Where the session store reports a failure it absorbs (a missed touch): a rate-limited log. */
export interface AbsorbedFailureLog {
  warn(reason: string, message: string): void;
}

/** A store call that did not finish within the deadline: fail closed (503), never hang. */
export class StoreTimeout extends TemporarilyUnavailable {
  override readonly name: string = 'StoreTimeout';
  /** Which call, e.g. `session get`. */
  readonly operation: string;
  constructor(operation: string, ms: number) {
    super(`the session store did not answer ${operation} within ${ms} ms`);
    this.operation = operation;
  }

  get logMessage(): string {
    return `session store ${this.operation} timed out after the kit's deadline (is Redis paused, down or overloaded?)`;
  }
}

/**
 * A store call that failed (Redis down, a connection refused or closed, an error reply): the
 * store's own error wrapped in the kit's type, so the page error handler knows it for an outage
 * (503) and a site's own errors are left to the site. Logged by name and code only.
 */
export class StoreFailure extends TemporarilyUnavailable {
  override readonly name: string = 'StoreFailure';
  /** Which call, e.g. `session get`. */
  readonly operation: string;
  constructor(operation: string, cause: unknown) {
    super(`the store failed at ${operation}`, { cause });
    this.operation = operation;
  }

  get logMessage(): string {
    if (isClosedClient(this.cause)) {
      return `store ${this.operation} failed: the Redis client given as \`redis\` is closed (ClientClosedError) and node-redis will not open it again:`
        + ' restart this site, and give the client a socket.reconnectStrategy (node-redis gives up for good after a socket timeout;'
        + ' the kit\'s README, "Redis client and store deadlines")';
    }
    return `store ${this.operation} failed (is Redis down or unreachable?): ${describeError(this.cause)}`;
  }
}

/**
 * node-redis's "The client is closed": no command of this client will ever run again (it was
 * closed, or its reconnectStrategy gave up, as the default one does after a socket timeout).
 * Its `name` is plain `Error`, so it is known by its class's name (another copy of node-redis
 * may be the site's, so not by `instanceof`).
 */
function isClosedClient(error: unknown): boolean {
  return typeof error === 'object' && error !== null && error.constructor?.name === 'ClientClosedError';
}

/** A store's failure as the kit's type ({@link StoreFailure}); the kit's own errors as they are. */
function asStoreError(operation: string, error: unknown): unknown {
  return error instanceof KitError ? error : new StoreFailure(operation, error);
}

/** `promise`, or a {@link StoreTimeout} after `ms`. The late answer, if any, is ignored. A failure is a {@link StoreFailure}. */
export function withDeadline<T>(promise: Promise<T>, ms: number, operation: string, onError?: StoreErrorListener): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new StoreTimeout(operation, ms)), ms);
    timer.unref?.();
  });
  const raced = Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
  return raced.catch((error: unknown) => {
    onError?.(operation, error instanceof StoreTimeout ? 'timeout' : 'error');
    throw asStoreError(operation, error);
  });
}

/** Told of every store call that failed (`error`) or passed its deadline (`timeout`): the kit's metrics. */
export type StoreErrorListener = (operation: string, kind: 'timeout' | 'error') => void;

/**
 * The kit's store with a deadline on every call. A paused Redis keeps the connection open and
 * answers nothing, and node-redis queues commands while disconnected (its offline queue), so
 * without this a page would wait for minutes.
 */
export class DeadlineKitStore implements KitStore {
  constructor(private readonly inner: KitStore, private readonly ms: number, private readonly onError?: StoreErrorListener) {}

  /**
   * Each claim is made under an owner of its own; a claim whose answer did not come back in
   * time is released by that owner behind it (on Redis, queued on the same connection, so it
   * runs after the claim if that lands late): a 503 never leaves a sync code spent or a
   * refresh lock held by work that was not done.
   */
  async claimOnce(key: string, ttlSeconds: number, owner: string = randomUUID()): Promise<boolean> {
    try {
      return await withDeadline(this.inner.claimOnce(key, ttlSeconds, owner), this.ms, 'claim', this.onError);
    } catch (error) {
      if (error instanceof StoreTimeout) void this.inner.releaseClaim(key, owner).catch(() => undefined);
      throw error;
    }
  }

  releaseClaim(key: string, owner: string): Promise<void> {
    return withDeadline(this.inner.releaseClaim(key, owner), this.ms, 'claim release', this.onError);
  }

  addToSet(key: string, member: string, ttlSeconds: number): Promise<void> {
    return withDeadline(this.inner.addToSet(key, member, ttlSeconds), this.ms, 'index add', this.onError);
  }

  removeFromSet(key: string, member: string): Promise<void> {
    return withDeadline(this.inner.removeFromSet(key, member), this.ms, 'index remove', this.onError);
  }

  members(key: string): Promise<string[]> {
    return withDeadline(this.inner.members(key), this.ms, 'index read', this.onError);
  }

  isClaimed(key: string): Promise<boolean> {
    return withDeadline(this.inner.isClaimed(key), this.ms, 'claim check', this.onError);
  }

  delete(key: string): Promise<void> {
    return withDeadline(this.inner.delete(key), this.ms, 'delete', this.onError);
  }
}

type Callback<T = unknown> = (error?: unknown, value?: T) => void;

/**
 * An express-session store that forwards to another with a deadline on each call: the
 * callback gets a {@link StoreTimeout} once `ms` have passed, and a late answer is dropped.
 * express-session then passes the error on, and the kit's page error handler answers 503.
 *
 * Two exceptions, both for calls express-session makes at `res.end`, after the page was sent
 * (an error then only makes Express cut the connection and log a stack):
 * - a session with a fixed lifetime (`hasFixedLifetime`: signed in) is not touched, so a page
 *   view of a signed-in user makes no store call at its end (and no deadline timer); a failed
 *   `touch` of any other session is counted and logged (rate-limited) and reported as done: a
 *   missed touch only skips one TTL refresh of a session that was read fine;
 * - a `set` of the very Session object this store saved last, unchanged, is skipped: after the
 *   kit saved a regenerated session itself (sign-in), express-session saves it again at
 *   `res.end` (it does not track a regenerated session's saves).
 *
 * A session that was loaded from the store is written back only while it is still stored
 * (the inner store's `update`): a page running when the session was ended (userdelete,
 * back-channel logout, sign-out in another tab) must not bring it back with its copy. New and
 * regenerated sessions (sign-in) are written as they are.
 */
export class DeadlineSessionStore extends session.Store {
  /** The last successful `set` of each Session object: its id and serialized data. */
  readonly #saved = new WeakMap<object, string>();
  /** Session objects express-session made from stored data (`createSession`), not new ones. */
  readonly #loaded = new WeakSet<object>();

  constructor(
    private readonly inner: session.Store,
    private readonly ms: number,
    private readonly onError?: StoreErrorListener,
    private readonly log?: AbsorbedFailureLog,
  ) {
    super();
    // express-session stops using a store that emits 'disconnect'; pass the inner store's state on.
    inner.on('disconnect', () => this.emit('disconnect'));
    inner.on('connect', () => this.emit('connect'));
  }

  override get(sid: string, callback: Callback<session.SessionData | null>): void {
    this.inner.get(sid, this.#bounded('get', callback));
  }

  override createSession(req: Parameters<session.Store['createSession']>[0], data: session.SessionData): ReturnType<session.Store['createSession']> {
    const made = super.createSession(req, data);
    this.#loaded.add(made);
    return made;
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    const snapshot = typeof data === 'object' && data !== null ? `${sid}\n${JSON.stringify(data)}` : undefined;
    if (snapshot !== undefined && this.#saved.get(data) === snapshot) {
      callback?.();
      return;
    }
    const inner = this.inner;
    const done = this.#bounded('set', (error?: unknown) => {
      if (snapshot !== undefined) {
        if (error) this.#saved.delete(data);
        else this.#saved.set(data, snapshot);
      }
      callback?.(error);
    });
    if (this.#loaded.has(data) && isUpdatable(inner)) inner.update(sid, data, done);
    else inner.set(sid, data, done);
  }

  override destroy(sid: string, callback?: Callback): void {
    this.inner.destroy(sid, this.#bounded('destroy', callback));
  }

  override touch(sid: string, data: session.SessionData, callback?: Callback): void {
    if (hasFixedLifetime(data) || typeof this.inner.touch !== 'function') {
      callback?.();
      return;
    }
    this.inner.touch(sid, data, this.#bounded('touch', (error?: unknown) => {
      if (error) {
        // Counted by #bounded (storeError); the answer is already on its way: carry on.
        this.log?.warn('session touch', `subsite-kit: session touch failed, the session's TTL was not refreshed this time: ${describeError(error)}`);
      }
      callback?.();
    }));
  }

  #bounded<T>(operation: string, callback: Callback<T> | undefined): Callback<T> {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      this.onError?.(`session ${operation}`, 'timeout');
      callback?.(new StoreTimeout(`session ${operation}`, this.ms));
    }, this.ms);
    timer.unref?.();
    return (error, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error) {
        this.onError?.(`session ${operation}`, 'error');
        callback?.(asStoreError(`session ${operation}`, error), value);
      } else callback?.(error, value);
    };
  }
}
