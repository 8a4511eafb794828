import type { ErrorRequestHandler, RequestHandler, Router } from 'express';
import type { Store } from 'express-session';
import { resolveOptionsWithEnvironment, type SubsiteKitConfig } from './environment.js';
import type { KitContext } from './context.js';
import { HubClient } from './hub-client.js';
import { KitKeys } from './store/keys.js';
import { MemoryKitStore } from './store/memory.js';
import { RedisKitStore } from './store/redis.js';
import { DeadlineKitStore, DeadlineSessionStore } from './store/deadline.js';
import { SessionIndex } from './session-index.js';
import { KitCookies } from './cookies.js';
import { PendingAuthCookie } from './pending-auth.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { createSessionMiddleware, createSessionStore } from './session.js';
import { createRouter } from './routes/index.js';
import { lazyLogin } from './lazy-login.js';
import { requireLogin } from './require-login.js';
import { pageErrorHandler } from './routes/error-handler.js';
import { catchRejections } from './async-handler.js';

/** What {@link createSubsiteKit} returns. */
export interface SubsiteKit {
  /** Mount first with `app.use(sso.router)`: cookies, the session, `req.user`, and the `/sso/*` endpoints. */
  readonly router: Router;
  /** Mount after the router: silent sign-in check on page views when the hub asked for one. */
  readonly lazyLogin: RequestHandler;
  /** Per-route guard: redirect page views to the hub's login, answer 401 to anything else. */
  readonly requireLogin: RequestHandler;
  /** Ends every local session of a user (as `/sso/userdelete` does). @returns how many sessions were listed. */
  endAllSessionsOf(sub: string): Promise<number>;
  /** Mount last: page views get a 503 page (store or hub down) instead of a stack trace. */
  readonly errorHandler: ErrorRequestHandler;
  /** The express-session store the kit uses (connect-redis or MemoryStore). */
  readonly sessionStore: Store;
}

/**
 * Builds the kit from options; an option left out is read from its `SSO_*` environment
 * variable (explicit options win). Throws `TypeError` at once for a bad or missing option,
 * naming the option and its variable; the hub is not contacted until the first sign-in, so a
 * subsite can start while the hub is down.
 */
export async function createSubsiteKit(options: SubsiteKitConfig = {}): Promise<SubsiteKit> {
  const resolved = resolveOptionsWithEnvironment(options, process.env);
  const keys = new KitKeys(resolved.redisPrefix);
  // Every store call has a deadline: a paused or unreachable Redis answers 503, never hangs a page.
  const kitStore = new DeadlineKitStore(resolved.redis ? new RedisKitStore(resolved.redis) : new MemoryKitStore(), resolved.storeTimeoutMs);
  const sessionStore = new DeadlineSessionStore(createSessionStore(resolved, keys), resolved.storeTimeoutMs);
  const ctx: KitContext = Object.freeze({
    options: resolved,
    hub: new HubClient(resolved),
    kitStore,
    keys,
    sessionStore,
    index: new SessionIndex(kitStore, keys, sessionStore, resolved.sessionMaxAgeSeconds),
    cookies: new KitCookies(resolved),
    pending: new PendingAuthCookie(resolved),
    syncLog: new RateLimitedLog(resolved.logger),
  });

  return Object.freeze({
    router: createRouter(ctx, createSessionMiddleware(resolved, sessionStore)),
    lazyLogin: catchRejections(lazyLogin(ctx)),
    requireLogin: requireLogin(ctx),
    endAllSessionsOf: (sub: string) => ctx.index.endAllSessionsOf(sub),
    errorHandler: pageErrorHandler(resolved.logger),
    sessionStore,
  });
}
