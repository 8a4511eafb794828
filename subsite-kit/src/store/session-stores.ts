import session from 'express-session';
import { RedisStore } from 'connect-redis';

type Callback = (error?: unknown) => void;

/**
 * A session store that can write a session back only while it is still stored. The kit saves
 * a session it loaded this way, so a page that was running when the session was ended
 * (`/sso/userdelete`, back-channel logout, sign-out in another tab) does not bring it back
 * when express-session saves its copy at the end of the answer.
 */
export interface UpdatableSessionStore extends session.Store {
  /** Writes `data` under `sid` only if a session is stored there now; otherwise writes nothing. */
  update(sid: string, data: session.SessionData, callback?: Callback): void;
}

export function isUpdatable(store: session.Store): store is UpdatableSessionStore {
  return typeof (store as Partial<UpdatableSessionStore>).update === 'function';
}

/**
 * Whether a session's lifetime was fixed at its sign-in: a signed-in session ends
 * `sessionMaxAgeSeconds` after it (`currentUser`), however it is used. Page views do not touch
 * it (express-session's TTL refresh at the end of each answer would only keep it stored longer);
 * its TTL is set whenever it is written ({@link sessionTtl}). Any other session (a site's own
 * data) is touched, as express-session does.
 */
export function hasFixedLifetime(data: session.SessionData): boolean {
  return data.sso !== undefined;
}

/**
 * The store TTL of a session, in seconds, as it is written. A signed-in session ends `maxAge`
 * after its sign-in and is stored until `maxAge` after that: the next page view within that
 * grace still finds it, so `currentUser` ends it properly (out of the indexes, `Request-Login`
 * set, so the hub is asked silently whether the user is still signed in). At most two lifetimes
 * after the sign-in, however often it is written; past that, 0 or less: the store deletes it.
 * Any other session: `maxAge`.
 */
export function sessionTtl(data: session.SessionData, maxAge: number, now = Date.now()): number {
  const loggedInAt = data.sso?.loggedInAt;
  return typeof loggedInAt === 'number' ? loggedInAt + 2 * maxAge - Math.floor(now / 1000) : maxAge;
}

/** connect-redis, plus `update`: its own SET with XX (only if the key exists), one command. */
export class KitRedisSessionStore extends RedisStore implements UpdatableSessionStore {
  update(sid: string, data: session.SessionData, callback?: Callback): void {
    const ttl = this.#ttl(data);
    if (ttl <= 0) {
      // connect-redis destroys a session whose cookie has expired; so does this.
      void this.destroy(sid, callback);
      return;
    }
    const value = this.serializer.stringify(data) as string;
    this.client.set(this.prefix + sid, value, { expiration: { type: 'EX', value: ttl }, condition: 'XX' }).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  /** The TTL connect-redis's own `set` gives (its `getTTL` is private). */
  #ttl(data: session.SessionData): number {
    if (typeof this.ttl === 'function') return this.ttl(data);
    const expires = data.cookie?.expires;
    return expires ? Math.ceil((Number(new Date(expires)) - Date.now()) / 1000) : this.ttl;
  }
}

/** express-session's MemoryStore (one process, no Redis), plus `update`. */
export class KitMemorySessionStore extends session.MemoryStore implements UpdatableSessionStore {
  update(sid: string, data: session.SessionData, callback?: Callback): void {
    // MemoryStore keeps sessions in `this.sessions`; checked and written in one tick.
    const stored = (this as unknown as { sessions: Record<string, string> }).sessions;
    if (!Object.hasOwn(stored, sid)) {
      queueMicrotask(() => callback?.());
      return;
    }
    this.set(sid, data, callback);
  }
}
