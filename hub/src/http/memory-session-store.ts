import session from 'express-session';
import type { Store } from '../store/store.js';

type Callback<T = unknown> = (error?: unknown, value?: T) => void;

/**
 * express-session on the hub's embedded store, for `npm start` without Redis. Unlike
 * express-session's own MemoryStore, entries expire with the session (the embedded store
 * sweeps them), so anonymous visits to the sign-in page do not pile up for ever.
 */
export class EmbeddedSessionStore extends session.Store {
  constructor(
    private readonly store: Store,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {
    super();
  }

  override get(sid: string, callback: Callback<session.SessionData | null>): void {
    this.store.get(this.prefix + sid).then(
      (raw) => callback(undefined, raw ? (JSON.parse(raw) as session.SessionData) : null),
      (error: unknown) => callback(error),
    );
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    this.store.set(this.prefix + sid, JSON.stringify(data), { ttlSeconds: this.ttlSeconds }).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  override touch(sid: string, data: session.SessionData, callback?: Callback): void {
    this.set(sid, data, callback);
  }

  override destroy(sid: string, callback?: Callback): void {
    this.store.del(this.prefix + sid).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }
}
