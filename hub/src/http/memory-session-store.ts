import session from 'express-session';
import { ioDeadline, type CancelDeadline } from '../store/io-deadline.js';
import { StoreUnavailableError, type Store } from '../store/store.js';

type Callback<T = unknown> = (error?: unknown, value?: T) => void;

/**
 * A store call that fails, or does not settle within `deadlineMs`, is a StoreUnavailableError:
 * the portal answers 503 instead of hanging (the embedded store never stalls by itself; a
 * Store given to the hub might).
 */
function bounded<T>(call: Promise<T>, deadlineMs: number): Promise<T> {
  let cancel: CancelDeadline | undefined;
  const deadline = new Promise<never>((_, reject) => {
    cancel = ioDeadline(deadlineMs, () => reject(new StoreUnavailableError(new Error('session store call timed out'))));
  });
  return Promise.race([call, deadline])
    .catch((error: unknown) => {
      throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error);
    })
    .finally(() => cancel?.());
}

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
    private readonly deadlineMs: number,
  ) {
    super();
  }

  override get(sid: string, callback: Callback<session.SessionData | null>): void {
    bounded(this.store.get(this.prefix + sid), this.deadlineMs).then(
      (raw) => callback(undefined, raw ? (JSON.parse(raw) as session.SessionData) : null),
      (error: unknown) => callback(error),
    );
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    bounded(this.store.set(this.prefix + sid, JSON.stringify(data), { ttlSeconds: this.ttlSeconds }), this.deadlineMs).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  override touch(sid: string, data: session.SessionData, callback?: Callback): void {
    this.set(sid, data, callback);
  }

  override destroy(sid: string, callback?: Callback): void {
    bounded(this.store.del(this.prefix + sid), this.deadlineMs).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }
}
