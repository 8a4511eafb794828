import { RedisStore } from 'connect-redis';
import session from 'express-session';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import { ioDeadline, type CancelDeadline } from '../store/io-deadline.js';
import { STORE_DEADLINE_MS, type Store } from '../store/store.js';
import type { RedisClient } from '../store/redis.js';
import { EmbeddedSessionStore } from './memory-session-store.js';
import { StoreUnavailableError } from '../store/store.js';
import { gaveUp, stallWatchOf, type StallWatch } from '../store/stall-watch.js';
import { randomPool } from '../secrets/random-pool.js';

declare module 'express-session' {
  interface SessionData {
    /** csrf-sync's synchroniser token. */
    csrfToken?: string | null; // as csrf-sync declares it
    /** The admin console's CSRF token (security/csrf.ts, adminCsrf): never on a portal page. */
    adminCsrfToken?: string | null;
    /** Pending portal sign-ins started at GET /login: state → where to go after. */
    portalLogins?: Record<string, string>;
    /** Finished sign-in pages (interaction uid) → where they were going, for the back button. */
    finishedSignIns?: Record<string, string>;
    /** Of those, the ones this browser cancelled (Cancel, Deny): Back to one, signed out, says so. */
    cancelledSignIns?: string[];
    /** The address the last sign-up on this browser was for (the "check your inbox" page shows it). */
    signupSentTo?: string;
    /** The account the last sign-up on this browser made: a sign-up with its username replaces it while unverified (signup-service.ts). */
    signedUpAccount?: string;
    /**
     * The accounts the last sign-ups on this browser were to make (the last few), kept before each
     * account is written: one the store cut off after writing it (the 503 page) is replaced as well.
     */
    signupAttempts?: string[];
    /** The site's sign-in page (interaction uid) that "Forgot your password?" or "Create an account" was opened from (portal/sign-in-return.ts). */
    signInPage?: string;
    /** A form came after this browser was signed out, and was not acted on: the next sign-in page says so, once. */
    formNotSaved?: boolean;
    /** The portal's sign-in form came after its page expired: the sign-in started again, and its page says so, once, with the login typed (stale-sign-in.ts). */
    restartedSignIn?: { login: string };
    /** Mailed links this browser spent (their digests) and what their page said, for reload and Back (portal/spent-links.ts). */
    spentLinks?: { key: string; shown: string; at?: number }[];
  }
}

/** A portal session id's random bytes: 24, as express-session's own ids (uid-safe), 32 base64url characters. */
const SESSION_ID_BYTES = 24;

const PORTAL_SESSION_TTL = 3600; // seconds; the portal session only carries CSRF and pending sign-ins
/** As the hub's store: a session store call that takes longer than this (milliseconds) fails closed. */
export const SESSION_STORE_DEADLINE_MS = STORE_DEADLINE_MS;

/** connect-redis's callback: (error, data). */
type Callback = NonNullable<Parameters<RedisStore['get']>[1]>;

/**
 * connect-redis under the hub's store rules: a Redis failure or a call that does not answer
 * in time is a StoreUnavailableError (a 503 page), never a raw client error (a 500) or a hang.
 */
class FailClosedRedisStore extends RedisStore {
  /** Shared with the hub's store on the same client: a request whose store call timed out does not wait here again. */
  readonly #stalls: StallWatch;

  constructor(options: ConstructorParameters<typeof RedisStore>[0]) {
    super(options);
    this.#stalls = stallWatchOf(options.client as object);
  }

  #guard(call: (cb: Callback) => Promise<unknown>, cb?: Callback): Promise<unknown> {
    const stalls = this.#stalls;
    const scope = stalls.scope();
    return new Promise((resolve, reject) => {
      let done = false;
      let late = false; // failed by the deadline, the reply still to come
      let cancel: CancelDeadline | undefined;
      const finish = (error?: unknown, data?: unknown) => {
        if (done) {
          if (late) {
            late = false;
            stalls.answeredLate();
          }
          return;
        }
        done = true;
        cancel?.();
        const failure = error ? (error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error)) : undefined;
        if (cb) {
          try {
            resolve(cb(failure, data));
          } catch (thrown) {
            reject(thrown);
          }
        } else if (failure) reject(failure);
        else resolve(data);
      };
      if (stalls.givesUp(scope)) {
        finish(new StoreUnavailableError(gaveUp()));
        return;
      }
      cancel = ioDeadline(SESSION_STORE_DEADLINE_MS, () => {
        finish(new Error('redis session call timed out'));
        late = true;
        stalls.timedOut(scope);
      });
      call(finish).catch((error: unknown) => finish(error));
    });
  }

  override get(sid: string, cb?: Callback): Promise<unknown> {
    return this.#guard((done) => super.get(sid, done), cb);
  }

  override set(sid: string, sess: session.SessionData, cb?: Callback): Promise<unknown> {
    return this.#guard((done) => super.set(sid, sess, done), cb);
  }

  override touch(sid: string, sess: session.SessionData, cb?: Callback): Promise<unknown> {
    return this.#guard((done) => super.touch(sid, sess, done), cb);
  }

  override destroy(sid: string, cb?: Callback): Promise<unknown> {
    return this.#guard((done) => super.destroy(sid, done), cb);
  }
}

/** Requests express-session gave a new portal session (none came with the request, or the one that came is gone). */
const newSessions = new WeakSet<object>();

/**
 * Whether this request came without a portal session (express-session made it a new one; also
 * after `regenerate()`). A page that renders a form to such a browser stores a session for the
 * form's CSRF token: a record made before anyone signed in.
 */
export function startsPortalSession(req: object): boolean {
  return newSessions.has(req);
}

/**
 * The portal's own session (express-session; connect-redis in production). It carries the
 * CSRF token and pending sign-ins; who is signed in is the hub's OIDC session.
 */
export function portalSession(options: { secrets: string[]; secure: boolean; redis?: RedisClient; embedded?: Store; prefix: string; logger?: Logger }): RequestHandler {
  const store = options.redis
    ? new FailClosedRedisStore({ client: options.redis, prefix: options.prefix, ttl: PORTAL_SESSION_TTL })
    : options.embedded ? new EmbeddedSessionStore(options.embedded, options.prefix, PORTAL_SESSION_TTL, SESSION_STORE_DEADLINE_MS) : undefined;
  const name = options.secure ? '__Host-hub_portal' : 'hub_portal';
  return withoutJsonSessionCookie(name, session({
    // `__Host-` behind https: only the hub's own origin can set it (see hubSessionCookieName).
    name,
    secret: options.secrets,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    // Ids from the process's random pool, as many bytes as express-session's own (uid-safe, one
    // `randomBytes` call each: 30–70 µs of a sign-in's main thread under load, perf 2026-12-05).
    genid: (req) => {
      newSessions.add(req);
      return randomPool.token(SESSION_ID_BYTES);
    },
    ...(store ? { store: absorbTouchFailures(store, options.logger) } : {}),
    cookie: { httpOnly: true, sameSite: 'lax', secure: options.secure, maxAge: PORTAL_SESSION_TTL * 1000, path: '/' },
  }));
}

/**
 * A session cookie sent as a `j:` JSON cookie (`hub_portal=j:1`) is no session: the locale
 * middleware's cookie-parser turns it into a number or an object in `req.cookies`, where
 * express-session, finding no `s:` value in the Cookie header, looks next and calls `.substr` on
 * it: a TypeError, a 500 on every portal page for that browser until the cookie went. Anyone who
 * can set a cookie for the hub's name (a page of a sibling subdomain, a script on one) could so
 * lock a browser out of signing in. Such a value is dropped before express-session reads it.
 */
export function withoutJsonSessionCookie(name: string, sessionMiddleware: RequestHandler): RequestHandler {
  return (req, res, next) => {
    const cookies = req.cookies as Record<string, unknown> | undefined;
    if (cookies && cookies[name] !== undefined && typeof cookies[name] !== 'string') delete cookies[name];
    return sessionMiddleware(req, res, next);
  };
}

/**
 * express-session touches an unchanged session once the answer's headers are out, and hands a
 * failed touch to `next(error)`: too late for a 503, so the error handler could only cut the
 * connection, perhaps before the page had gone out whole. A missed touch only skips one refresh
 * of the session's TTL (it was read fine), so it is logged and the page goes out as it is.
 */
function absorbTouchFailures<S extends session.Store>(store: S, logger: Logger | undefined): S {
  const touch = store.touch?.bind(store);
  if (!touch) return store;
  store.touch = (sid, data, callback) =>
    touch(sid, data, (error?: unknown) => {
      if (error) logger?.warn('portal session touch failed: its TTL was not refreshed this time', { error: ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message });
      callback?.();
    });
  return store;
}

/**
 * Regenerate the session id at sign-in to prevent session fixation. Pending portal sign-ins
 * and finished ones are carried over (the portal callback and the back button need them
 * after this sign-in); the CSRF token is not.
 */
export function regenerate(req: Express.Request & { session: session.Session & Partial<session.SessionData> }): Promise<void> {
  const { portalLogins, finishedSignIns, cancelledSignIns } = req.session;
  return new Promise((resolve, reject) =>
    req.session.regenerate((error) => {
      if (error) return reject(error);
      if (portalLogins) (req.session as session.Session & Partial<session.SessionData>).portalLogins = portalLogins;
      if (finishedSignIns) (req.session as session.Session & Partial<session.SessionData>).finishedSignIns = finishedSignIns;
      if (cancelledSignIns) (req.session as session.Session & Partial<session.SessionData>).cancelledSignIns = cancelledSignIns;
      resolve();
    }),
  );
}

/**
 * Saves the portal session now, before the answer, and fails closed: a store that is down or
 * does not answer within the deadline is a StoreUnavailableError (a 503 page). express-session
 * would otherwise save after the answer was decided (at `res.end`), so a redirect that depends
 * on the saved session (GET /login: the pending sign-in's state) would go out although nothing
 * was stored, and the browser would meet an error one hop later.
 */
export function saveSession(req: Express.Request & { session: session.Session }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    // Declared before `finish` may run (a save that calls back at once).
    let cancel: CancelDeadline = () => undefined;
    const finish = (error?: unknown) => {
      if (done) return;
      done = true;
      cancel();
      if (error) reject(error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error));
      else {
        skipUnchangedResave(req.session);
        resolve();
      }
    };
    cancel = ioDeadline(SESSION_STORE_DEADLINE_MS, () => finish(new Error('session save timed out')));
    req.session.save((error?: unknown) => finish(error));
  });
}

/**
 * express-session does not track a session made by `regenerate()`: saved here, it would be
 * stored a second time at `res.end` although nothing changed (one more write per sign-in).
 * This session's `save` now skips the write while its content is what was just stored.
 */
function skipUnchangedResave(sess: session.Session): void {
  const stored = contentOf(sess);
  const save = sess.save;
  Object.defineProperty(sess, 'save', {
    configurable: true,
    enumerable: false,
    writable: true,
    value(this: session.Session, callback?: (error?: unknown) => void) {
      if (contentOf(this) === stored) {
        callback?.();
        return this;
      }
      return save.call(this, callback);
    },
  });
}

/** A session's data as express-session compares it: without the cookie (its expiry moves on every touch). */
function contentOf(sess: session.Session): string {
  // A copy without the cookie, serialised without a replacer: what a replacer that drops the
  // top-level `cookie` gives (same keys, same order), without a call per value (JSON.stringify's
  // slow path). It runs twice per sign-in (at the save, then at the answer's end).
  const content: Record<string, unknown> = {};
  for (const key of Object.keys(sess)) if (key !== 'cookie') content[key] = (sess as unknown as Record<string, unknown>)[key];
  return JSON.stringify(content);
}

/** Requests whose portal session holds something a later request needs (a new CSRF token). */
const needsSaveFirst = new WeakSet<object>();

/**
 * Marks the request's portal session as holding what the next request of this browser needs
 * (the CSRF token of the form being rendered): the page must not go out before it is stored.
 */
export function markSaveBeforeAnswer(req: object): void {
  needsSaveFirst.add(req);
}

/**
 * Whether the session must be saved before the answer, clearing the mark (one attempt: an
 * error page rendered after a failed save does not try again).
 */
export function takeSaveBeforeAnswer(req: object): boolean {
  return needsSaveFirst.delete(req);
}
