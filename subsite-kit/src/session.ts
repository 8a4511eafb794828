import session from 'express-session';
import type { RequestHandler, Request } from 'express';
import { KitMemorySessionStore, KitRedisSessionStore, sessionTtl } from './store/session-stores.js';
import type { ResolvedOptions } from './options.js';
import { SiteMisconfigured } from './errors.js';
import type { KitKeys } from './store/keys.js';
import type { SsoRequestApi } from './request-api.js';
import type { RateLimitedLog } from './rate-limited-log.js';
import { SessionCookieCheck } from './session-cookie-check.js';
import { movedSignedCookie } from './cookie-parse.js';
import { sessionIsFor } from './session-owner.js';

/** The signed-in user as the kit keeps it, from the hub's ID token. */
export interface SsoUser {
  /** The hub's stable user id (`sub`). */
  sub: string;
  name?: string;
  preferred_username?: string;
  email?: string;
  /** Every claim of the ID token (`iss`, `aud`, `sid`, `email_verified`, custom claims, …) except the nonce and hashes. */
  claims: Readonly<Record<string, unknown>>;
}

/** What the kit keeps in a signed-in session. */
export interface SsoSessionState {
  user: SsoUser;
  /** The hub session id (`sid` claim of the ID token), for back-channel logout. */
  hubSid?: string | undefined;
  /** The raw ID token, sent back as `id_token_hint` at logout. */
  idToken: string;
  /** Access token for calls to the hub's userinfo endpoint, when the subsite wants them. */
  accessToken?: string;
  /** When the access token expires (epoch seconds). */
  accessTokenExpiresAt?: number;
  /** Refresh token (kept server-side in the session store, never in a cookie); rotated at each refresh. */
  refreshToken?: string;
  /**
   * The client (`clientId`) this session was signed in for: another site that loads it (one on
   * this host sharing the cookie name, secret and store) treats the visitor as signed out.
   * Absent in sessions signed in before it was kept: the ID token's audience says.
   */
  clientId?: string;
  /** When this local session started (epoch seconds); bounds its absolute lifetime. */
  loggedInAt: number;
  /**
   * When the hub last confirmed this user here (epoch seconds): the sign-in, then each `crossSite`
   * re-check that found the same user. Absent in sessions signed in before it was kept: `loggedInAt`.
   */
  verifiedAt?: number;
  /** When the last `crossSite` re-check was started (epoch seconds): none is started again within `crossSiteRecheckSeconds`. */
  recheckStartedAt?: number;
}

declare module 'express-session' {
  interface SessionData {
    /** Set by the kit at sign-in; absent for anonymous sessions. */
    sso?: SsoSessionState;
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /**
     * The signed-in user's type: the kit's `SsoUser`. Declared as Passport's typings do
     * (`interface User`, and `Request.user` of that type), so a site that also has
     * @types/passport installed gets the same declaration twice, not TS2717 and an empty `User`.
     */
    interface User extends SsoUser {}
    interface Request {
      /** The signed-in user, set by the kit's router for every request with a session user. */
      user?: User | undefined;
      /** The kit's per-request API (`accessToken()`, `userinfo()`), set by the kit's router. */
      sso?: SsoRequestApi | undefined;
    }
  }
}

/**
 * Builds the session store: connect-redis when a Redis client is given, else express-session's
 * MemoryStore; each can also write a session back only while it is still stored (`update`).
 * On Redis a signed-in session is stored until one lifetime after its absolute end, and page
 * views do not extend it (`sessionTtl`, `hasFixedLifetime`).
 */
export function createSessionStore(options: ResolvedOptions, keys: KitKeys): session.Store {
  if (!options.redis) return new KitMemorySessionStore();
  const maxAge = options.sessionMaxAgeSeconds;
  return new KitRedisSessionStore({ client: options.redis, prefix: keys.sessionPrefix(), ttl: (data: session.SessionData) => sessionTtl(data, maxAge) });
}

/** What a site that mounted its own session before the kit is told, in its log and as the error. */
export const FOREIGN_SESSION =
  "another session middleware (express-session or cookie-session) ran before sso.router, so the kit's session would be skipped: " +
  "its signed-in users would live in that session (that cookie's lifetime, not the browser session's) where forced and back-channel logout cannot end them; " +
  "remove it, or mount it after sso.router: the kit's session is req.session for your own data too (sso.sessionStore is its store)";

/**
 * express-session, configured as the design asks. A session some other middleware already put
 * on the request makes express-session step aside without a word; the kit refuses that
 * (SiteMisconfigured), since its sign-out and forced logout work on its own store.
 */
export function createSessionMiddleware(options: ResolvedOptions, store: session.Store, configLog: RateLimitedLog): RequestHandler {
  const middleware = createExpressSession(options, store);
  const cookieCheck = new SessionCookieCheck(options.cookies.session, options.sessionSecret, configLog);
  return (req, res, next) => {
    if (req.session !== undefined && req.sessionStore !== store) return next(new SiteMisconfigured(FOREIGN_SESSION));
    // Behind the site's own cookieParser(secret) the session cookie is not in req.cookies: it is
    // read from the Cookie header, or the checks below never ran there (a review: two sites on
    // one host took each other's sign-ins, and said nothing).
    const cookie: unknown = req.cookies?.[options.cookies.session] ?? movedSignedCookie(req, options.cookies.session);
    if (typeof cookie !== 'string') {
      // A `j:` JSON cookie under the session cookie's name (`sso.sid=j:1`): cookie-parser (the
      // kit's, or the site's own) made it a number or an object, and express-session, finding no
      // `s:` value in the Cookie header, looks there next and calls `.substr` on it: a TypeError,
      // a 500 on every page for that browser until the cookie went (a sibling subdomain can set
      // one). It is no session: dropped before express-session reads it.
      if (cookie !== undefined) delete (req.cookies as Record<string, unknown>)[options.cookies.session];
      return middleware(req, res, next);
    }
    // A cookie that brought no signed-in session: was it signed here at all (another site on this host)?
    return middleware(req, res, (error?: unknown) => {
      if (!error) {
        const state = req.session?.sso;
        if (!state) cookieCheck.inspect(req, cookie);
        else if (!sessionIsFor(state, options.clientId)) setAsideForeign(req, state, options, configLog);
      }
      next(error);
    });
  };
}

/** Requests whose session was signed in for another client ({@link sessionIsFor}): anonymous to the kit, their session left as it is. */
const foreignSessions = new WeakSet<Request>();

/**
 * What the kit keeps of this request's sign-in: none for an anonymous visitor, nor for a session
 * signed in for another client (a site on this host sharing this one's cookie name, secret and
 * store), which this site neither uses nor writes. Every read of `req.session.sso` goes through it.
 */
export function ssoState(req: Request): SsoSessionState | undefined {
  const state = req.session?.sso;
  return state === undefined || foreignSessions.has(req) ? undefined : state;
}

/**
 * A signed-in session of another client (see {@link sessionIsFor}): the visitor is anonymous
 * here ({@link ssoState}), and that session is neither changed nor destroyed (express-session
 * saves it only if it changed); a sign-in here starts a session of its own (see
 * {@link regenerateSession}). Said in the log, at most once a minute.
 */
function setAsideForeign(req: Request, state: SsoSessionState, options: ResolvedOptions, log: RateLimitedLog): void {
  foreignSessions.add(req);
  log.warn(
    'session of another client',
    `subsite-kit: ${req.baseUrl}${req.path}: a session signed in for ${state.clientId === undefined ? 'another client' : `client ${JSON.stringify(state.clientId)}`} came to this site (client ${JSON.stringify(options.clientId)}), so the visitor is treated as signed out here: ` +
      'another site on this host uses the same session cookie, sessionSecret and session store (browsers share cookies across ports), so each would take the other\'s sign-ins; ' +
      "give each site on one host its own cookiePrefix (e.g. cookiePrefix: 'forum.', or SSO_COOKIE_PREFIX) and its own sessionSecret",
  );
}

function createExpressSession(options: ResolvedOptions, store: session.Store): RequestHandler {
  return session({
    name: options.cookies.session,
    secret: options.sessionSecret,
    store,
    resave: false,
    // Anonymous visitors get no session: one is saved only once the kit signs someone in.
    saveUninitialized: false,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: options.secureCookies,
      path: '/',
      // No maxAge: a browser-session cookie, so closing the browser ends the local session
      // and the next visit re-checks with the hub (the seed's rule).
      maxAge: undefined,
    },
  });
}

/** `req.session.regenerate` as a promise. */
export function regenerateSession(req: Request): Promise<void> {
  if (foreignSessions.delete(req)) {
    // Another client's session is not this site's to destroy: a new one takes its place here.
    (req.sessionStore as session.Store & { generate: (req: Request) => void }).generate(req);
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => req.session.regenerate((error: unknown) => (error ? reject(error) : resolve())));
}

/** `req.session.save` as a promise. */
export function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((error: unknown) => (error ? reject(error) : resolve())));
}

/** `req.session.destroy` as a promise; a request without a session resolves at once. */
export function destroySession(req: Request): Promise<void> {
  if (!req.session || foreignSessions.has(req)) return Promise.resolve();
  return new Promise((resolve, reject) => req.session.destroy((error: unknown) => (error ? reject(error) : resolve())));
}

/** `store.destroy(id)` as a promise. */
export function destroyStoredSession(store: session.Store, id: string): Promise<void> {
  return new Promise((resolve, reject) => store.destroy(id, (error: unknown) => (error ? reject(error) : resolve())));
}

/** `store.get(id)` as a promise. */
export function getStoredSession(store: session.Store, id: string): Promise<session.SessionData | null | undefined> {
  return new Promise((resolve, reject) => store.get(id, (error: unknown, data) => (error ? reject(error) : resolve(data))));
}
