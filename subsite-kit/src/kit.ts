import type { ErrorRequestHandler, RequestHandler, Router } from 'express';
import type { Store } from 'express-session';
import { resolveOptionsWithEnvironment, type SubsiteKitConfig } from './environment.js';
import { OPTION_NAMES } from './options.js';
import { rejectUnknownOptions } from './unknown-options.js';
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
import { MountCheck } from './mount-check.js';
import { createSessionMiddleware, createSessionStore } from './session.js';
import { createRouter } from './routes/index.js';
import { lazyLogin } from './lazy-login.js';
import { requireLogin } from './require-login.js';
import { pageErrorHandler } from './routes/error-handler.js';
import { catchRejections } from './async-handler.js';
import { healthRoutes, type HealthRoutesOptions } from './health.js';
import { NO_INSTRUMENTS } from './metrics/instruments.js';
import { METRICS_OPTION_NAMES, createKitMetrics, type KitMetrics, type KitMetricsOptions, type MetricsRegistry } from './metrics/prometheus.js';
import { metricsHandler, type MetricsHandlerOptions } from './metrics/metrics-handler.js';

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
  /** Mount last: the kit's errors get its pages (503 store or hub down, 500 misconfigured); any other error goes on to the site's handlers. */
  readonly errorHandler: ErrorRequestHandler;
  /** The express-session store the kit uses (connect-redis or MemoryStore). */
  readonly sessionStore: Store;
  /**
   * Opt-in `GET /healthz` (liveness) and `GET /readyz` (the store answers; with `checkHub`, the
   * hub's discovery too): `app.use(sso.healthRoutes())`, before the kit's router.
   */
  healthRoutes(options?: HealthRoutesOptions): Router;
  /**
   * The Prometheus scrape handler for the kit's metrics (needs the `metrics` option):
   * `app.get('/metrics', sso.metricsHandler({ token }))`, or `{ open: true }` on a listener of its own.
   */
  metricsHandler(options: MetricsHandlerOptions): RequestHandler;
  /** The registry the kit's metrics are in (`undefined` without the `metrics` option). */
  readonly metricsRegistry: MetricsRegistry | undefined;
}

/** `createSubsiteKit`'s own options besides the connection settings (not read from the environment). */
export interface SubsiteKitExtras {
  /**
   * Count the kit's work in prom-client (an optional peer dependency: `npm install prom-client`):
   * `true`, or `{ registry, prefix }`. Default: off (nothing is loaded or counted).
   */
  metrics?: boolean | KitMetricsOptions;
}

/** The names of {@link SubsiteKitExtras}, held to the interface by the compiler. */
const EXTRA_NAMES: readonly (keyof SubsiteKitExtras)[] = Object.keys({ metrics: true } satisfies { [K in keyof Required<SubsiteKitExtras>]: true }) as (keyof SubsiteKitExtras)[];

/** Said at start when a production site keeps its sessions in memory (express-session warns the same of its MemoryStore). */
const MEMORY_IN_PRODUCTION = 'subsite-kit: no redis option under NODE_ENV=production: sessions and the indexes that forced and back-channel logout use are kept in this process\'s memory, lost at every restart, and a /sso/userdelete or back-channel logout answered by one process does not end the sessions another process holds: pass redis (a connected node-redis client)';

/**
 * Builds the kit from options; an option left out is read from its `SSO_*` environment
 * variable (explicit options win). Throws `TypeError` at once for a bad or missing option,
 * naming the option and its variable, and for an unknown (misspelled) option; the hub is not contacted until the first sign-in, so a
 * subsite can start while the hub is down.
 */
export async function createSubsiteKit(options: SubsiteKitConfig & SubsiteKitExtras = {}): Promise<SubsiteKit> {
  // Before the environment is read: a misspelled option must not be filled in from its variable.
  if (typeof options === 'object' && options !== null) rejectUnknownOptions(options, [...OPTION_NAMES, ...EXTRA_NAMES]);
  const { metrics: metricsOption, ...config } = options;
  const resolved = resolveOptionsWithEnvironment(config, process.env);
  if (!resolved.redis && process.env.NODE_ENV === 'production') resolved.logger.warn(MEMORY_IN_PRODUCTION);
  if (metricsOption !== undefined && typeof metricsOption !== 'boolean' && (typeof metricsOption !== 'object' || metricsOption === null)) {
    throw new TypeError('subsite-kit: metrics must be true, false or { registry, prefix }');
  }
  if (typeof metricsOption === 'object') rejectUnknownOptions(metricsOption, METRICS_OPTION_NAMES, 'metrics.');
  const metrics: KitMetrics | undefined = metricsOption ? await createKitMetrics(metricsOption === true ? {} : metricsOption) : undefined;
  const instruments = metrics?.instruments ?? NO_INSTRUMENTS;
  const keys = new KitKeys(resolved.redisPrefix);
  // Every store call has a deadline: a paused or unreachable Redis answers 503, never hangs a page.
  const kitStore = new DeadlineKitStore(resolved.redis ? new RedisKitStore(resolved.redis) : new MemoryKitStore(), resolved.storeTimeoutMs, instruments.storeError);
  const sessionStore = new DeadlineSessionStore(createSessionStore(resolved, keys), resolved.storeTimeoutMs, instruments.storeError, new RateLimitedLog(resolved.logger));
  const ctx: KitContext = Object.freeze({
    options: resolved,
    hub: new HubClient(resolved),
    kitStore,
    keys,
    sessionStore,
    // The index lists a session as long as the store keeps it (two lifetimes from the sign-in,
    // `sessionTtl`), so userdelete and back-channel logout also remove one past its lifetime
    // that nobody viewed since: it still holds the user's name, address and tokens.
    index: new SessionIndex(kitStore, keys, sessionStore, 2 * resolved.sessionMaxAgeSeconds),
    cookies: new KitCookies(resolved),
    pending: new PendingAuthCookie(resolved),
    syncLog: new RateLimitedLog(resolved.logger),
    configLog: new RateLimitedLog(resolved.logger),
    mount: new MountCheck(resolved),
    instruments,
  });

  return Object.freeze({
    router: createRouter(ctx, createSessionMiddleware(resolved, sessionStore, ctx.configLog)),
    lazyLogin: catchRejections(lazyLogin(ctx)),
    requireLogin: requireLogin(ctx),
    endAllSessionsOf: (sub: string) => ctx.index.endAllSessionsOf(sub),
    errorHandler: pageErrorHandler(ctx.configLog, resolved.logger),
    sessionStore,
    healthRoutes: (healthOptions?: HealthRoutesOptions) => healthRoutes(ctx, healthOptions),
    metricsHandler: (handlerOptions: MetricsHandlerOptions) => {
      if (!metrics) throw new TypeError('subsite-kit: metricsHandler needs the kit built with the metrics option (createSubsiteKit({ ..., metrics: true }))');
      return metricsHandler(metrics.registry, handlerOptions);
    },
    metricsRegistry: metrics?.registry,
  });
}
