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
