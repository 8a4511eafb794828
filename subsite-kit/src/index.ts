/**
 * `@sso-hub/subsite-kit`: Express middleware that connects a subsite to an sso-hub.
 *
 * ```ts
 * const sso = await createSubsiteKit({ hubUrl, clientId, clientSecret, redirectUri, syncKey, sessionSecret });
 * app.use(sso.router);
 * app.use(sso.lazyLogin);
 * app.get('/private', sso.requireLogin, handler);
 * ```
 * @packageDocumentation
 */

/** Builds the kit; see {@link SubsiteKit} for what it returns. */
export { createSubsiteKit } from './kit.js';
/** The kit: `router`, `lazyLogin`, `requireLogin`, `errorHandler`, `endAllSessionsOf`, `sessionStore`, `healthRoutes`, `metricsHandler`. */
export type { SubsiteKit, SubsiteKitExtras } from './kit.js';
/** Options of the opt-in `/healthz` and `/readyz` routes (`sso.healthRoutes()`). */
export type { HealthRoutesOptions } from './health.js';
/** The `metrics` option (prom-client, an optional peer dependency) and the `/metrics` handler's protection. */
export type { KitMetricsOptions, MetricsRegistry } from './metrics/prometheus.js';
export type { MetricsHandlerOptions } from './metrics/metrics-handler.js';
/** Options of `createSubsiteKit`, the node-redis client types (`KitRedisClient`: what the `redis` option accepts), and its logger. */
export type { SubsiteKitOptions, RedisClient, KitRedisClient, KitLogger } from './options.js';
/** What `createSubsiteKit` accepts (options may come from `SSO_*` variables) and those variables' names. */
export { ENVIRONMENT_VARIABLES, type SubsiteKitConfig } from './environment.js';
/** The signed-in user (`req.user`, `res.locals.user`) and what the kit keeps in `req.session.sso`. */
export type { SsoUser, SsoSessionState } from './session.js';
/** The kit's route paths, relative to where `sso.router` is mounted. */
export { ROUTES } from './context.js';
/** The protocol errors the kit's endpoints answer with (RFC 6749 / 6750 codes). */
export { KitError, InvalidRequest, InvalidToken, Forbidden, TemporarilyUnavailable, LoginRequired, SiteMisconfigured } from './errors.js';
/** A server-to-server step with the hub failed: `step`, `url`, `reason`, `code`, `logMessage`. */
export { HubRequestError } from './hub-errors.js';
/** A store call that failed (`StoreFailure`) or passed its deadline (`StoreTimeout`): both 503 `TemporarilyUnavailable`. */
export { StoreFailure, StoreTimeout } from './store/deadline.js';
/** The `afterCallback` hook: throw `SignInRefused('message')` (or return false) to refuse a user. */
export { SignInRefused } from './after-callback.js';
export type { AfterCallback, AfterCallbackContext } from './after-callback.js';
/** The `onUserDelete` hook and what it is told of a userdelete notice. */
export type { OnUserDelete, UserDeleteEvent } from './user-delete-hook.js';
/** `req.sso` (`accessToken()`, `userinfo()`) and `res.locals.sso` (`consentRequired`). */
export type { SsoRequestApi } from './request-api.js';
/** `req.sso` in a route behind `sso.router`, typed as set (throws if the router did not run). */
export { ssoApi } from './request-api.js';
export type { SsoLocals } from './current-user.js';
/** Same-origin check for `next` / return targets, for subsites that build their own links. */
export { safeReturnTo } from './return-to.js';
/** The kit's store contract and its two implementations, for subsites that share them. */
export type { KitStore } from './store/store.js';
/** In-process store (development, one process). */
export { MemoryKitStore } from './store/memory.js';
/** Redis store (production). */
export { RedisKitStore } from './store/redis.js';
