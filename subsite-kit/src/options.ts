import type { AfterCallback } from './after-callback.js';
import type { OnUserDelete } from './user-delete-hook.js';
import type { KitRedisClient } from './redis-client.js';
import { safeReturnTo } from './return-to.js';

export type { KitRedisClient, RedisClient } from './redis-client.js';

/** Where the kit writes diagnostics. It never passes tokens, codes or secrets to it. */
export interface KitLogger {
  warn(message: string): void;
}

/** Options of {@link createSubsiteKit}. Only the first seven are required. */
export interface SubsiteKitOptions {
  /** The hub's browser-facing URL, which is also its OpenID Connect issuer, e.g. `http://hub.sso.localhost:4000`. */
  hubUrl: string;
  /**
   * Where this server reaches the hub (discovery, token, JWKS). Default: `hubUrl`.
   * Set it when the server cannot resolve the browser-facing host (Node does not resolve `*.localhost`).
   */
  hubInternalUrl?: string;
  /** This subsite's client id at the hub. Also the `aud` of its sync codes. */
  clientId: string;
  /** This subsite's client secret (sent with HTTP Basic to the token endpoint). */
  clientSecret: string;
  /** The registered redirect URI; its path must end with `/sso/callback`, e.g. `http://bbs.sso.localhost:4001/sso/callback`. */
  redirectUri: string;
  /** The subsite's sync key (HS256, at least 32 characters), shared with the hub. */
  syncKey: string;
  /** The previous sync key, still accepted while a key rotation is under way. Default: none. */
  previousSyncKey?: string;
  /** Secret(s) that sign the session cookie (at least 32 characters each); the first signs, all verify. */
  sessionSecret: string | string[];
  /**
   * A connected node-redis client (one server, a cluster or Sentinel) for sessions and the kit's
   * indexes. Default: in-process memory (one process, development).
   */
  redis?: KitRedisClient;
  /** Prefix of every Redis key the kit writes. Default: `'sso-kit:'`. */
  redisPrefix?: string;
  /** Prefix of the kit's cookie names (`<prefix>sid`, `<prefix>request-login`, `<prefix>auth.<id>`, `<prefix>auth-dropped`, `<prefix>checked`). Default: `'sso.'`. */
  cookiePrefix?: string;
  /**
   * The subsite is on a different registrable domain from the hub, so cookies set by the hub's
   * cross-site sync beacons are dropped: do one top-level silent check per browser session. Default: `false`.
   */
  crossSite?: boolean;
  /**
   * With `crossSite`: a signed-in session last verified with the hub longer ago than this is
   * re-checked silently (`prompt=none`) on the next page view, so a user who signed out or
   * whose hub session ended without a back-channel logout, or another user signed in at the hub
   * in this browser, is not kept here until `sessionMaxAgeSeconds`. `0` turns it off; ignored
   * without `crossSite`. Default: `900` (15 minutes, in seconds).
   */
  crossSiteRecheckSeconds?: number;
  /** Scopes to request; must include `openid`. Default: `['openid', 'profile', 'email']`. */
  scopes?: string[];
  /** Where the hub sends the browser after a logout started here. Default: the origin of `redirectUri` + `/`. */
  postLogoutRedirectUri?: string;
  /** Mark cookies `Secure`. Default: `true` when `redirectUri` is https. Behind a TLS proxy, also set Express's `trust proxy`. */
  secureCookies?: boolean;
  /** Lifetime of the `Request-Login` cookie. Default: `2_592_000` (30 days, in seconds). */
  requestLoginMaxAgeSeconds?: number;
  /**
   * Absolute lifetime of a local session, after which the kit re-checks with the hub silently.
   * Also the session's TTL in Redis. Default: `86_400` (one day, in seconds).
   */
  sessionMaxAgeSeconds?: number;
  /** Clock skew allowed between the hub and this server. Default: `30` (seconds). */
  clockSkewSeconds?: number;
  /** Timeout of each server-to-server request to the hub. Default: `5_000` (milliseconds). */
  hubTimeoutMs?: number;
  /**
   * Deadline of each session-store and kit-store call (Redis): past it the request fails closed
   * with a 503 page instead of hanging on a paused or unreachable Redis. Default: `1_000` (milliseconds).
   */
  storeTimeoutMs?: number;
  /** Diagnostics sink. Default: `console`. */
  logger?: KitLogger;
  /**
   * The site's public page (same-origin path): where a visitor goes after cancelling the hub's
   * sign-in, and the "continue" link of the kit's error pages. Default: `'/'` (under the mount path).
   */
  publicPath?: string;
  /**
   * Called after the ID token is validated and before the session is created: return a user to
   * keep (e.g. with mapped claims), `false` to refuse the sign-in (a 403 page, no loop), or
   * nothing to keep the default. Throw {@link SignInRefused} to refuse with a message. Default: none.
   */
  afterCallback?: AfterCallback;
  /**
   * Called when the hub's `/sso/userdelete` notice came, after the user's sessions here ended:
   * delete the user's local data when `reason` is `'deleted'` (only then: a disabled user may be
   * enabled again). It may be async; one that throws or rejects makes the notice answer 503, and
   * the hub retries it, so make it idempotent. Default: none.
   */
  onUserDelete?: OnUserDelete;
}

/** The cookie names the kit uses, all under `cookiePrefix` (after `__Host-` with `secureCookies`). */
export interface CookieNames {
  /** The browser-session cookie holding the session id. */
  session: string;
  /** Long-lived marker set by synclogin: "check with the hub on the next page view". */
  requestLogin: string;
  /** Short-lived, encrypted pending authorization requests (state, nonce, PKCE verifier, return URL): one cookie each, `<auth>.<id>`; `<auth>` alone is the single cookie of earlier versions. */
  auth: string;
  /** Browser-session marker of the one silent check made in `crossSite` mode or after a browser restart. */
  checked: string;
  /** Long-lived marker of a successful sign-in here: the first page view of a new browser session re-checks silently. */
  remember: string;
  /** Browser-session marker: the last silent check ended in `consent_required`. */
  consent: string;
}

/**
 * The name of every option of {@link SubsiteKitOptions}, for refusing unknown ones. The type makes
 * the compiler hold it to the interface: an option added there and not here (or a name here that
 * is not there) does not compile.
 */
export const OPTION_NAMES: readonly (keyof SubsiteKitOptions)[] = Object.freeze(Object.keys({
  hubUrl: true, hubInternalUrl: true, clientId: true, clientSecret: true, redirectUri: true, syncKey: true,
  previousSyncKey: true, sessionSecret: true, redis: true, redisPrefix: true, cookiePrefix: true, crossSite: true,
  crossSiteRecheckSeconds: true, scopes: true, postLogoutRedirectUri: true, secureCookies: true,
  requestLoginMaxAgeSeconds: true, sessionMaxAgeSeconds: true, clockSkewSeconds: true, hubTimeoutMs: true,
  storeTimeoutMs: true, logger: true, publicPath: true, afterCallback: true,
  onUserDelete: true,
} satisfies { [K in keyof Required<SubsiteKitOptions>]: true }) as (keyof SubsiteKitOptions)[]);

/** Validated, defaulted, frozen options used inside the kit. */
export interface ResolvedOptions {
  readonly hubUrl: string;
  /** Accepted `iss` values: the hub URL with and without a trailing slash. */
  readonly issuers: readonly string[];
  readonly hubInternalUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  /** Origin of the subsite, from `redirectUri`. */
  readonly siteOrigin: string;
  /** Where the router is mounted: the path of `redirectUri` before `/sso/callback` ('' at the root). */
  readonly basePath: string;
  readonly syncKeys: readonly Uint8Array[];
  readonly sessionSecret: string | string[];
  readonly redis: KitRedisClient | undefined;
  readonly redisPrefix: string;
  readonly cookies: Readonly<CookieNames>;
  readonly crossSite: boolean;
  /** Seconds after its last verification before a crossSite session is re-checked; 0: never. */
  readonly crossSiteRecheckSeconds: number;
  readonly scope: string;
  readonly postLogoutRedirectUri: string;
  readonly secureCookies: boolean;
  readonly requestLoginMaxAgeSeconds: number;
  readonly sessionMaxAgeSeconds: number;
  readonly clockSkewSeconds: number;
  readonly hubTimeoutMs: number;
  readonly storeTimeoutMs: number;
  readonly logger: KitLogger;
  /** Same-origin path of the site's public page (with the mount path). */
  readonly publicPath: string;
  readonly afterCallback: AfterCallback | undefined;
  readonly onUserDelete: OnUserDelete | undefined;
}

const MIN_SECRET_LENGTH = 32; // characters; HS256 wants at least 256 bits of key
const COOKIE_PREFIX = /^[A-Za-z0-9_.-]*$/;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 scope-token

/** A bad or missing option: a `TypeError` that also names the option, so callers can say where it came from. */
export class KitOptionError extends TypeError {
  constructor(readonly option: string, readonly why: string) {
    super(`subsite-kit: option "${option}" ${why}`);
  }
}

function fail(option: string, why: string): never {
  throw new KitOptionError(option, why);
}

function requireString(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(option, 'must be a non-empty string');
  return value;
}

function requireHttpUrl(value: unknown, option: string): URL {
  const text = requireString(value, option);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail(option, `must be an absolute http(s) URL, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(option, 'must use http or https');
  if (url.username || url.password) fail(option, 'must not contain credentials');
  if (url.hash) fail(option, 'must not contain a fragment');
  return url;
}

function requireSecret(value: unknown, option: string): string {
  const text = requireString(value, option);
  if (text.length < MIN_SECRET_LENGTH) fail(option, `must be at least ${MIN_SECRET_LENGTH} characters long`);
  return text;
}

function optionalPositiveInteger(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) fail(option, 'must be a positive integer');
  return value;
}

/** The most clock skew allowed: beyond it a sync code (60 s) or an ID token past its expiry would still be taken. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

/**
 * `clockSkewSeconds`: a positive integer up to {@link MAX_CLOCK_SKEW_SECONDS}. Before, any value
 * was taken: 86400 (to silence a clock warning) let a captured sync code or ID token be used for a
 * day after it expired.
 */
function clockSkew(value: unknown): number {
  const seconds = optionalPositiveInteger(value, 'clockSkewSeconds', 30);
  if (seconds > MAX_CLOCK_SKEW_SECONDS) fail('clockSkewSeconds', `must be at most ${MAX_CLOCK_SKEW_SECONDS} (5 minutes): a wider allowance lets expired sync codes and ID tokens through; set this server's clock right (NTP) instead`);
  return seconds;
}

function optionalNonNegativeInteger(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(option, 'must be 0 or a positive integer');
  return value;
}

function optionalBoolean(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(option, 'must be a boolean');
  return value;
}

function withoutTrailingSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** Checks every option, fills in the defaults, and freezes the result. Throws `TypeError` naming the bad option. */
export function resolveOptions(options: SubsiteKitOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('subsite-kit: options must be an object');

  const hubUrl = withoutTrailingSlash(requireHttpUrl(options.hubUrl, 'hubUrl').href);
  if (new URL(hubUrl).search) fail('hubUrl', 'must not contain a query');
  const hubInternalUrl = options.hubInternalUrl === undefined
    ? hubUrl
    : withoutTrailingSlash(requireHttpUrl(options.hubInternalUrl, 'hubInternalUrl').href);

  const clientId = requireString(options.clientId, 'clientId');
  const clientSecret = requireString(options.clientSecret, 'clientSecret');

  const redirect = requireHttpUrl(options.redirectUri, 'redirectUri');
  if (!redirect.pathname.endsWith('/sso/callback')) fail('redirectUri', 'must have a path ending in /sso/callback (where the kit serves its callback)');
  if (redirect.search) fail('redirectUri', 'must not contain a query');

  const syncKeys = [requireSecret(options.syncKey, 'syncKey')];
  if (options.previousSyncKey !== undefined) syncKeys.push(requireSecret(options.previousSyncKey, 'previousSyncKey'));

  const secrets = Array.isArray(options.sessionSecret) ? options.sessionSecret : [options.sessionSecret];
  if (secrets.length === 0) fail('sessionSecret', 'must not be an empty array');
  secrets.forEach((secret) => requireSecret(secret, 'sessionSecret'));

  const redis = options.redis;
  if (redis !== undefined && (typeof redis !== 'object' || redis === null || typeof (redis as { sendCommand?: unknown }).sendCommand !== 'function')) {
    fail('redis', 'must be a node-redis client (from createClient(), createCluster() or createSentinel() of the "redis" package)');
  }
  // Another client with a sendCommand of its own (ioredis): its commands take other arguments, so
  // every sign-in and sync beacon failed as "store … failed (is Redis down or unreachable?)" with
  // Redis up. Every node-redis client (createClient, createCluster, createSentinel) has isOpen.
  if (redis !== undefined && typeof (redis as { isOpen?: unknown }).isOpen !== 'boolean') {
    const ioredis = typeof (redis as { status?: unknown }).status === 'string';
    fail('redis', `must be a node-redis client (from createClient(), createCluster() or createSentinel() of the "redis" package): this one ${ioredis ? 'looks like an ioredis client, whose commands the kit cannot call' : 'has no isOpen'}; make one with the "redis" package for the kit`);
  }
  // Never opened: every command would fail (or queue for ever), each signed-in page a 503 that
  // blames Redis. Open but reconnecting (isOpen true, isReady false) is fine: it recovers.
  if (redis !== undefined && (redis as { isOpen?: unknown }).isOpen === false) {
    fail('redis', 'is a client that was never connected: call await redis.connect() before createSubsiteKit()');
  }
  const redisPrefix = options.redisPrefix ?? 'sso-kit:';
  if (typeof redisPrefix !== 'string') fail('redisPrefix', 'must be a string');
  // Braces would make part of the prefix a Redis Cluster hash tag: every key in one slot.
  if (/[{}]/.test(redisPrefix)) fail('redisPrefix', 'must not contain { or } (Redis Cluster hash tags)');

  const secureCookies = optionalBoolean(options.secureCookies, 'secureCookies', redirect.protocol === 'https:');
  const cookiePrefix = options.cookiePrefix ?? 'sso.';
  if (typeof cookiePrefix !== 'string' || !COOKIE_PREFIX.test(cookiePrefix)) fail('cookiePrefix', 'may only contain letters, digits, "_", "." and "-"');

  const scopes = options.scopes ?? ['openid', 'profile', 'email'];
  if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string' && SCOPE_TOKEN.test(scope))) {
    fail('scopes', 'must be an array of scope strings');
  }
  if (!scopes.includes('openid')) fail('scopes', 'must include "openid"');

  const basePath = redirect.pathname.slice(0, -'/sso/callback'.length);
  // The site's root, as publicPath's default: a site under /app is registered with /app/ (it
  // was the origin's root, which such a site's admin does not register: sign-out then stopped
  // at the hub's error page, the user still signed in everywhere).
  const postLogoutRedirectUri = options.postLogoutRedirectUri === undefined
    ? `${redirect.origin}${basePath}/`
    : requireHttpUrl(options.postLogoutRedirectUri, 'postLogoutRedirectUri').href;

  const publicPath = options.publicPath === undefined ? `${basePath}/` : requireString(options.publicPath, 'publicPath');
  if (!publicPath.startsWith('/') || publicPath.startsWith('//') || safeReturnTo(publicPath) !== publicPath) {
    fail('publicPath', 'must be a same-origin path such as "/" or "/welcome"');
  }
  if (options.afterCallback !== undefined && typeof options.afterCallback !== 'function') fail('afterCallback', 'must be a function');
  if (options.onUserDelete !== undefined && typeof options.onUserDelete !== 'function') fail('onUserDelete', 'must be a function');

  const logger = options.logger ?? console;
  if (typeof logger?.warn !== 'function') fail('logger', 'must have a warn(message) method');

  return Object.freeze({
    hubUrl,
    issuers: Object.freeze([hubUrl, `${hubUrl}/`]),
    hubInternalUrl,
    clientId,
    clientSecret,
    redirectUri: redirect.href,
    siteOrigin: redirect.origin,
    basePath,
    syncKeys: Object.freeze(syncKeys.map((key) => new TextEncoder().encode(key))),
    sessionSecret: Array.isArray(options.sessionSecret) ? [...secrets] : secrets[0]!,
    redis,
    redisPrefix,
    cookies: cookieNames(secureCookies ? `__Host-${cookiePrefix}` : cookiePrefix),
    crossSite: optionalBoolean(options.crossSite, 'crossSite', false),
    // A quarter of an hour: a user switch or sign-out at the hub shows here within that (at the
    // next page view after it), for one hub round trip per signed-in user per 15 minutes.
    crossSiteRecheckSeconds: optionalNonNegativeInteger(options.crossSiteRecheckSeconds, 'crossSiteRecheckSeconds', 900),
    scope: [...new Set(scopes)].join(' '),
    postLogoutRedirectUri,
    secureCookies,
    requestLoginMaxAgeSeconds: optionalPositiveInteger(options.requestLoginMaxAgeSeconds, 'requestLoginMaxAgeSeconds', 2_592_000),
    sessionMaxAgeSeconds: optionalPositiveInteger(options.sessionMaxAgeSeconds, 'sessionMaxAgeSeconds', 86_400),
    clockSkewSeconds: clockSkew(options.clockSkewSeconds),
    hubTimeoutMs: optionalPositiveInteger(options.hubTimeoutMs, 'hubTimeoutMs', 5_000),
    storeTimeoutMs: optionalPositiveInteger(options.storeTimeoutMs, 'storeTimeoutMs', 1_000),
    logger,
    publicPath,
    afterCallback: options.afterCallback,
    onUserDelete: options.onUserDelete,
  });
}

/**
 * The kit's cookie names under a prefix. With `secureCookies` the prefix starts `__Host-`: every
 * kit cookie is Path=/ with no Domain, and the browser then takes it only from this site's own
 * origin over https, so a sibling host on the same parent domain cannot plant a pending sign-in
 * or a session of its choosing (cookie tossing: a login CSRF).
 */
function cookieNames(prefix: string): Readonly<CookieNames> {
  return Object.freeze({
    session: `${prefix}sid`,
    requestLogin: `${prefix}request-login`,
    auth: `${prefix}auth`,
    checked: `${prefix}checked`,
    remember: `${prefix}remember`,
    consent: `${prefix}consent-required`,
  });
}
