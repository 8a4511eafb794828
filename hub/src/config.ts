import { createPrivateKey, type JsonWebKey } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { distance } from 'fastest-levenshtein';
import { z } from 'zod';
import type { RedisAccess, RedisNode, RedisTarget } from './store/redis-client.js';
import { loadRedisTlsFiles, RedisTlsFileError, type RedisTlsFiles } from './store/redis-tls.js';
import { badPortProblem } from './fetch-bad-ports.js';
import { algOfKey } from './secrets/signing-algs.js';


/** Why a JWK cannot sign (an RSA, EC or OKP private key Node can load), or undefined. */
function unusableSigningKey(key: Record<string, unknown>): string | undefined {
  if (key.kty !== 'RSA' && key.kty !== 'EC' && key.kty !== 'OKP') return `has kty ${JSON.stringify(key.kty)}: signing keys are RSA, EC or OKP (Ed25519)`;
  try {
    createPrivateKey({ key: key as JsonWebKey, format: 'jwk' });
  } catch (error) {
    return `is not a usable private key (${(error as Error).message}): give the whole private key (for RSA: n, e, d, p, q, dp, dq, qi)`;
  }
  // The hub signs RS256, ES256 and EdDSA: a key of another curve, or one whose alg its type cannot
  // sign with, oidc-provider refused at start as "of no use given the other configuration".
  const implied = algOfKey({ kty: key.kty, crv: key.crv });
  if (!implied) return `is an ${String(key.kty)} key on curve ${JSON.stringify(key.crv)}: the hub signs with RSA (RS256), EC P-256 (ES256) or OKP Ed25519 (EdDSA) keys`;
  if (key.alg !== undefined && key.alg !== implied) return `has alg ${JSON.stringify(key.alg)}, which an ${String(key.kty)}${key.crv ? ` ${String(key.crv)}` : ''} key does not sign with: give it alg "${implied}" or leave alg out`;
  return undefined;
}

/** What is wrong with the key set as a whole: kids used twice, or no RS256 key (every client's default). */
function unusableSigningKeySet(keys: Record<string, unknown>[]): string | undefined {
  const kids = keys.map((key) => key.kid).filter((kid): kid is string => typeof kid === 'string');
  const twice = kids.find((kid, index) => kids.indexOf(kid) !== index);
  if (twice !== undefined) return `has kid ${JSON.stringify(twice)} on two keys: each key needs its own kid`;
  if (!keys.some((key) => algOfKey(key) === 'RS256')) {
    return `has no RSA (RS256) key: RS256 signs the ID tokens of every client by default and of the hub's own portal sign-in, so without one the hub would start and every sign-in fail; add an RSA private key (2048 bits or more) beside the others`;
  }
  return undefined;
}

/**
 * A whole number as written in an environment variable: decimal digits only. `z.coerce.number`
 * also took `0x10`, `1e3`, `0b1` and padded or signed values (HUB_PORT=0x10 listened on 16).
 */
function integer(rules: z.ZodNumber) {
  return z
    .string()
    .regex(/^\d+$/, 'must be a whole number in decimal digits (no sign, hex, exponent, decimal point or spaces)')
    .transform(Number)
    .pipe(rules);
}
/** What Kubernetes' service links (and docker --link) put in `<SERVICE>_PORT`: the service's address. */
const SERVICE_LINK = /^(tcp|udp|sctp):\/\/[^\s/]+:\d+$/;

/**
 * A port number; `service` is the name a Kubernetes Service would need to set this variable:
 * every pod gets `<SERVICE>_PORT=tcp://ip:port` for each Service of its namespace (on by
 * default), so a Service named `hub` sets HUB_PORT, which was refused as "must be a whole
 * number" although nobody wrote it.
 */
function port(service: string) {
  const number = integer(z.number().int().min(1).max(65_535));
  return z.string().transform((value, ctx) => {
    if (!SERVICE_LINK.test(value)) return value;
    ctx.addIssue({ code: 'custom', message: `is ${value}, the address of a Service named "${service}" that Kubernetes gives every pod of its namespace (or of a container linked as "${service}" by docker --link), not a port number: set this variable to the hub's port in the container's environment (it then takes precedence), or set enableServiceLinks: false in the pod spec` });
    return z.NEVER;
  }).pipe(number);
}
const seconds = integer(z.number().int().positive());
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');
/** `host:port,host:port` (REDIS_CLUSTER_NODES, REDIS_SENTINELS). */
const nodes = z.string().transform((value, ctx) => {
  const found: RedisNode[] = [];
  for (const item of value.split(',').map((part) => part.trim()).filter(Boolean)) {
    const match = /^\[?([^\[\]]+?)\]?:(\d{1,5})$/.exec(item);
    const nodePort = Number(match?.[2]);
    if (!match || nodePort < 1 || nodePort > 65_535) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not host:port` });
      return z.NEVER;
    }
    found.push({ host: match[1]!, port: nodePort });
  }
  if (found.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'needs at least one host:port' });
    return z.NEVER;
  }
  return found;
});
/** A From: address, bare or with a display name (`Name <address>`). */
const MAIL_FROM = /^(?:[^<>@\r\n]*<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+)$/;
const list = z.string().transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean));
/**
 * The issuer: an http(s) origin, as the browser writes it (`new URL` lower-cases the scheme and
 * host and drops a default port). The hub serves every endpoint at the root, so a path, a
 * query or a fragment would be published in discovery and served nowhere.
 */
/** A URL's scheme and `//`: without them `hub.example.com:4000` parses as the scheme `hub.example.com:`. */
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const issuer = z.string().transform((value, ctx) => {
  if (!HAS_SCHEME.test(value)) {
    ctx.addIssue({ code: 'custom', message: `has no scheme: write https://… (or http://… on loopback), e.g. https://${value.replace(/^\/+/, '')} (got ${JSON.stringify(value)})` });
    return z.NEVER;
  }
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `not a URL: ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `must be http:// or https:// (got ${parsed.protocol})` });
    return z.NEVER;
  }
  if ((parsed.pathname !== '/' && parsed.pathname !== '') || parsed.search || parsed.hash || parsed.username || parsed.password) {
    ctx.addIssue({ code: 'custom', message: `must be an origin only (scheme, host, port): the hub serves its endpoints at the root, so put it at the root of its own host name (got ${value})` });
    return z.NEVER;
  }
  const badPort = badPortProblem(Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)));
  if (badPort) {
    ctx.addIssue({ code: 'custom', message: badPort });
    return z.NEVER;
  }
  return parsed.origin;
});
const redisUrl = z.string().superRefine((value, ctx) => {
  // One line each: `127.0.0.1:6379` was "Invalid URL", "must be redis://" and "has no host" at once.
  if (!/^rediss?:\/\//i.test(value)) {
    const bare = !HAS_SCHEME.test(value);
    ctx.addIssue({ code: 'custom', message: bare ? `has no scheme: write redis://${value} (or rediss:// for TLS)` : 'must be redis:// or rediss:// (for example redis://127.0.0.1:6379)' });
  } else if (!URL.canParse(value)) {
    ctx.addIssue({ code: 'custom', message: 'has no host, or is not a URL: name the Redis server (for example redis://127.0.0.1:6379)' });
  } else if (new URL(value).hostname === '') {
    // ioredis would take `redis://` (no host) for 127.0.0.1:6379 and connect there silently.
    ctx.addIssue({ code: 'custom', message: 'has no host: name the Redis server (for example redis://127.0.0.1:6379)' });
  } else if (!/^\/?(\d+)?$/.test(new URL(value).pathname)) {
    // The path is the database number: node-redis threw "Invalid pathname" at connect (`/abc`,
    // `/0/`, `/sso`), naming no setting, from both the hub and the CLI (an operator review).
    ctx.addIssue({ code: 'custom', message: `has ${JSON.stringify(new URL(value).pathname)} after the host, which is not a database number: write the database as /0 to /15 (or leave the path off for database 0), for example redis://127.0.0.1:6379/0` });
  }
});

/** The demo's issuer (`npm start`, docker-compose.demo.yml): HUB_ISSUER's default, refused in production without HUB_DEMO. */
export const DEMO_ISSUER = 'http://hub.sso.localhost:4000';

/** The kit's and jose's key-set refetch allowance, HUB_SUBSITE_JWKS_REFETCH_MS's default before openid-client 6 was measured (60 s). */
const FORMER_REFETCH_MS = 30_000;

/** Different characters a secret must have at least: one letter repeated, or a word said again and again, has fewer. */
const SECRET_MIN_DISTINCT = 8;

/**
 * A secret's text, refused when it is guessable by its shape (fewer than SECRET_MIN_DISTINCT
 * different characters: `aaaa…`, `changemechangeme…`), which the length alone let through. The
 * message never repeats the value.
 */
function unguessable(text: z.ZodString, what: string) {
  return text.refine(isUnguessable, guessableMessage(what));
}

function isUnguessable(value: string): boolean {
  return new Set(value).size >= SECRET_MIN_DISTINCT;
}

function guessableMessage(what: string): string {
  return `${what} needs at least ${SECRET_MIN_DISTINCT} different characters (this one repeats a few, so it can be guessed); make one with: openssl rand -base64 33`;
}

/** Every environment variable the hub reads, with its default and unit. */
const schema = z.object({
  HUB_PORT: port('hub').default(4000),
  HUB_HOST: z.string().default('127.0.0.1'),
  /** The browser-facing base URL, also the OIDC issuer. */
  HUB_ISSUER: issuer.default(DEMO_ISSUER),
  /** The demo on purpose (docker-compose.demo.yml): with NODE_ENV=production the demo issuer is refused without it. */
  HUB_DEMO: bool.default(false),
  /** Unset: the embedded in-process store (for trying out only). */
  REDIS_URL: redisUrl.optional(),
  /** A Redis Cluster instead: `host:port` of some of its masters, comma-separated (the rest are discovered). */
  REDIS_CLUSTER_NODES: nodes.optional(),
  /** Redis Sentinel instead: `host:port` of the sentinels, comma-separated, with REDIS_SENTINEL_NAME. */
  REDIS_SENTINELS: nodes.optional(),
  /** The name the sentinels monitor the primary under (`sentinel monitor NAME …`). */
  REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  /** A cluster's nodes, or Sentinel's primary and replicas: the Redis ACL user (`AUTH user password`); unset: `default`. */
  REDIS_USERNAME: z.string().min(1).optional(),
  /** Their password (`requirepass`, or the ACL user's). A single server's goes in REDIS_URL. */
  REDIS_PASSWORD: z.string().min(1).optional(),
  /** The sentinels' own password (`requirepass` in sentinel.conf, or their ACL user's), which is not the primary's. */
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  /** The sentinels' own Redis ACL user (`ACL SETUSER` on each sentinel); unset: `default`. */
  REDIS_SENTINEL_USERNAME: z.string().min(1).optional(),
  /** TLS to a cluster's nodes, or to the sentinels and their primary and replicas (Node's trusted CAs, or REDIS_TLS_CA_FILE). A single server: `rediss://`. */
  REDIS_TLS: bool.default(false),
  /** With TLS (REDIS_TLS or rediss://): a PEM file of the CAs that sign the Redis servers' certificates, trusted instead of Node's. */
  REDIS_TLS_CA_FILE: z.string().min(1).optional(),
  /** With TLS: this hub's client certificate (PEM, chain after it), for servers with `tls-auth-clients yes`; with REDIS_TLS_KEY_FILE. */
  REDIS_TLS_CERT_FILE: z.string().min(1).optional(),
  /** Its private key (PEM, without a passphrase). */
  REDIS_TLS_KEY_FILE: z.string().min(1).optional(),
  /**
   * Replicas that must acknowledge the single-use claim of a code or refresh token (`WAIT`)
   * before the hub answers; too few within REDIS_WAIT_TIMEOUT_MS is a 503. Unset: 1 with
   * Sentinel or a cluster (their primaries have replicas), 0 otherwise.
   */
  REDIS_WAIT_REPLICAS: integer(z.number().int().min(0).max(16)).optional(),
  REDIS_WAIT_TIMEOUT_MS: integer(z.number().int().min(1).max(10_000)).default(500), // milliseconds
  // Braces would make part of the prefix a Redis Cluster hash tag and put every key in one slot.
  KEY_PREFIX: z.string().min(1).regex(/^[^{}]*$/, 'must not contain { or } (Redis Cluster hash tags)').default('sso:'),
  /** Comma-separated secrets for cookie signing; the first signs, all verify. Generated and stored when unset. */
  HUB_COOKIE_SECRETS: list.pipe(z.array(unguessable(z.string().min(32, 'each cookie secret needs at least 32 characters'), 'a cookie secret')).min(1, 'needs at least one secret (comma-separated, 32 characters or more each)')).optional(),
  /** A JWKS (JSON) with private signing keys; the first key of an alg signs, all verify. Generated and stored when unset. */
  HUB_JWKS: z
    .string()
    .transform((value, ctx) => {
      try {
        const parsed = JSON.parse(value) as { keys?: unknown };
        if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new Error('no keys');
        // A public key set (what /jwks publishes) cannot sign: say which key lacks its private part.
        const keys = parsed.keys as Record<string, unknown>[];
        const publicOnly = keys.findIndex((key) => typeof key !== 'object' || key === null || typeof key.d !== 'string' || key.d === '');
        if (publicOnly >= 0) {
          const kid = typeof keys[publicOnly]?.kid === 'string' ? ` (kid ${String(keys[publicOnly]!.kid)})` : '';
          ctx.addIssue({ code: 'custom', message: `key ${publicOnly}${kid} has no private part ("d"): HUB_JWKS holds the private signing keys, not the public set that /jwks publishes` });
          return z.NEVER;
        }
        // Each key must be one Node (and so oidc-provider) can sign with: said here, naming the
        // variable and the key, before anything is opened (oidc-provider's own words named neither).
        for (const [index, key] of keys.entries()) {
          const problem = unusableSigningKey(key);
          if (problem) {
            const kid = typeof key.kid === 'string' ? ` (kid ${key.kid})` : '';
            ctx.addIssue({ code: 'custom', message: `key ${index}${kid} ${problem}` });
            return z.NEVER;
          }
        }
        const problem = unusableSigningKeySet(keys);
        if (problem) {
          ctx.addIssue({ code: 'custom', message: problem });
          return z.NEVER;
        }
        return parsed as { keys: Record<string, unknown>[] };
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON Web Key Set with at least one private key' });
        return z.NEVER;
      }
    })
    .optional(),
  /**
   * Comma-separated key-encryption keys (at least 32 characters each) for two-step (TOTP)
   * secrets at rest; the first encrypts, all decrypt. Generated and stored when unset.
   */
  HUB_TOTP_KEYS: list.pipe(z.array(z.string().min(32, 'each TOTP key needs at least 32 characters')).min(1, 'needs at least one key (comma-separated, 32 characters or more each)')).optional(),
  /** Admins must have two-step sign-in on: one without it is sent to enrol before reaching /admin. */
  HUB_ADMIN_REQUIRE_TOTP: bool.default(false),
  /** A YAML/JSON file of users and clients loaded at start (the demo's declarative file). */
  HUB_SEED_FILE: z.string().optional(),
  /**
   * Variables of something else in the hub's environment whose names look like a mistyped
   * setting (a shared ConfigMap's REDIS_URI), comma-separated: not refused in production, nor
   * warned about (misspelledVariables).
   */
  HUB_NOT_SETTINGS: z.string().optional().transform((value, ctx) => {
    const names = notSettingNames(value);
    const settings = names.filter(isSettingName);
    if (settings.length) ctx.addIssue({ code: 'custom', message: `${settings.join(', ')} is a setting of the hub: list only variables the hub should not read as a typo of one` });
    return names;
  }),
  HUB_TRUST_PROXY: bool.default(false),
  /**
   * How many proxies in front of the hub to trust (with HUB_TRUST_PROXY=true): the client address
   * is the one the outermost of them saw, the N-th X-Forwarded-For entry from the right. Unset:
   * every entry is trusted and the left-most taken, right only behind a proxy that replaces the
   * header (deploy/nginx); behind one that appends to it, the client chooses its own address.
   */
  HUB_TRUST_PROXY_HOPS: integer(z.number().int().positive()).optional(),
  /** How long a hub sign-in lasts unused, in seconds (12 hours): every use pushes its end out again, up to HUB_SESSION_MAX_TTL. */
  HUB_SESSION_TTL: seconds.default(12 * 3600),
  /**
   * The longest a hub sign-in lasts however often it is used, in seconds from the sign-in
   * (ASVS 5 V7.3.2); unset: 30 days (NIST SP 800-63B's re-authentication bound for AAL1), or
   * HUB_SESSION_TTL when that is longer. Less than HUB_SESSION_TTL is refused.
   */
  HUB_SESSION_MAX_TTL: seconds.optional(),
  /** Live hub sessions (signed-in browsers) one account keeps at most; past it the oldest sign-ins end. */
  HUB_MAX_SESSIONS_PER_ACCOUNT: integer(z.number().int().min(1).max(100_000)).default(100),
  /** How long a remembered consent lasts, in seconds (180 days). */
  HUB_CONSENT_TTL: seconds.default(180 * 86_400),
  HUB_ACCESS_TOKEN_TTL: seconds.default(3600), // one hour, in seconds
  HUB_REFRESH_TOKEN_TTL: seconds.default(14 * 86_400), // two weeks, in seconds
  /** argon2id cost. OWASP's floor is m=19 MiB, t=2, p=1. */
  ARGON2_MEMORY_KIB: integer(z.number().int().min(19_456, 'must be at least 19456 (OWASP minimum, 19 MiB)')).default(19_456),
  ARGON2_ITERATIONS: integer(z.number().int().min(2, 'must be at least 2 (OWASP minimum)')).default(2),
  ARGON2_PARALLELISM: integer(z.number().int().min(1).max(16)).default(1),
  /**
   * argon2id checks and hashes run at once, each on one of libuv's pool threads; the rest wait
   * their turn. Unset: the cores, and always at least one pool thread left for the rest of the
   * pool's work (ID-token signatures, DNS lookups, file reads). Must be below UV_THREADPOOL_SIZE.
   */
  ARGON2_CONCURRENCY: integer(z.number().int().min(1)).optional(),
  /** Checks that may wait for a turn; past that a sign-in is answered "busy" (503, Retry-After). Unset: 400 per ARGON2_CONCURRENCY, about ten seconds of work. */
  ARGON2_QUEUE_LIMIT: integer(z.number().int().min(1)).optional(),
  /**
   * How long a check may wait for its turn, in milliseconds; one whose turn comes later is answered
   * "busy" (503, Retry-After) unchecked. Below the read timeout of the proxy in front (the compose
   * nginx's is 30 s), so that a sign-in queued too long gets the hub's busy page, not the proxy's 504.
   */
  ARGON2_QUEUE_WAIT_MS: integer(z.number().int().min(100).max(600_000)).default(20_000),
  /** libuv's pool size, read by Node itself at start (4 when unset); read here to size ARGON2_CONCURRENCY. */
  UV_THREADPOOL_SIZE: integer(z.number().int().min(2, 'must be at least 2: argon2id takes pool threads, and ID-token signatures need one left').max(1024)).default(4),
  /** Failed sign-ins allowed per account per window before a lockout. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: integer(z.number().int().positive()).default(5),
  /** Sign-in attempts allowed per IP per window. */
  LOGIN_MAX_ATTEMPTS_PER_IP: integer(z.number().int().positive()).default(50),
  LOGIN_WINDOW_SECONDS: seconds.default(15 * 60), // fifteen minutes
  /**
   * Failed (and in-flight) password checks one UCenter application may make per
   * LOGIN_WINDOW_SECONDS, whatever user addresses it reports (user/login, user/edit): a leaked
   * UC_KEY giving each guess a new address meets this. Size it above the failed sign-ins the
   * busiest forum sees in a window: past it, that application's sign-ins are refused until the
   * window ends (not the hub's, not another application's). Unset: off, because anyone who
   * fails sign-ins at a forum's own form from a few addresses (50 each) could otherwise stop all
   * of that forum's sign-ins, key or no key.
   */
  UCENTER_MAX_FAILURES_PER_APP: integer(z.number().int().positive()).optional(),
  /** First delay once an account's untrusted clients (or a device) are over their failures, in seconds; doubles per failure. */
  LOGIN_BACKOFF_BASE_SECONDS: seconds.default(2),
  /** Longest such delay, in seconds (five minutes): sign-in is slowed, never locked for a fixed time. */
  LOGIN_BACKOFF_MAX_SECONDS: seconds.default(5 * 60),
  /** Sign-in pages (`GET /login`, `/auth`) one address may open per window: each may write a record. */
  SIGNIN_STARTS_PER_IP: integer(z.number().int().positive()).default(300),
  SIGNIN_STARTS_WINDOW_SECONDS: seconds.default(5 * 60), // five minutes
  /** How long a password-reset link works, in seconds (30 minutes). */
  PASSWORD_RESET_TTL: seconds.default(30 * 60),
  /** How long an e-mail change confirmation link works, in seconds (24 hours). */
  EMAIL_CHANGE_TTL: seconds.default(24 * 3600),
  /** How long the link mailed to the old address after a change gives it back, in seconds (7 days). */
  EMAIL_UNDO_TTL: seconds.default(7 * 24 * 3600),
  /** Password-reset requests one address may make per RECOVERY_WINDOW_SECONDS; past it 429. */
  RECOVERY_REQUESTS_PER_IP: integer(z.number().int().positive()).default(20),
  /** Reset and e-mail-change mails one account may be sent per window; past it no mail (the answer stays the same). */
  RECOVERY_MAILS_PER_ACCOUNT: integer(z.number().int().positive()).default(3),
  RECOVERY_WINDOW_SECONDS: seconds.default(3600), // one hour
  /** How long a request may take to arrive whole (headers and body), in milliseconds; past it 408 and the connection closed. */
  HUB_REQUEST_TIMEOUT_MS: integer(z.number().int().min(1_000).max(300_000)).default(30_000),
  /** How long the sync page waits for subsites before continuing, in milliseconds. */
  SYNC_WAIT_MS: integer(z.number().int().min(100).max(10_000)).default(1_500),
  SYNC_CODE_TTL: integer(z.number().int().min(5).max(60)).default(60), // seconds; the design caps it at 60
  /** Allow the legacy resource-owner password grant for clients registered with it. */
  HUB_ENABLE_PASSWORD_GRANT: bool.default(false),
  /** Delivery queue (userdelete, back-channel logout): first retry delay, in milliseconds; doubles per attempt. */
  DELIVERY_BACKOFF_BASE_MS: integer(z.number().int().min(1)).default(2_000),
  /** Longest delay between two attempts, in milliseconds (one hour). */
  DELIVERY_BACKOFF_MAX_MS: integer(z.number().int().min(1)).default(3_600_000),
  /** How often the delivery worker looks for due items, in milliseconds. */
  DELIVERY_POLL_MS: integer(z.number().int().min(10)).default(1_000),
  /** How long one delivery request may take, in milliseconds. */
  DELIVERY_TIMEOUT_MS: integer(z.number().int().min(100).max(60_000)).default(5_000),
  /** Deliveries to one subsite in flight at once per hub process (of the worker's 20): a subsite that never answers holds no more. */
  DELIVERY_PER_SUBSITE: integer(z.number().int().min(1).max(100)).default(5),
  /** How long delivered items stay visible in the admin console, in seconds (seven days). */
  DELIVERY_RETENTION_SECONDS: seconds.default(7 * 86_400),
  /** How long failed items stay for the admin to see and retry, in seconds (30 days). */
  DELIVERY_FAILED_RETENTION_SECONDS: seconds.default(30 * 86_400),
  /** At most this many delivered items are kept (the oldest go first): each sign-out of any user queues one per back-channel subsite. */
  DELIVERY_MAX_DELIVERED: integer(z.number().int().min(100)).default(100_000),
  /** After this long, in seconds, an item still failing is given up and shown as failed (seven days). */
  DELIVERY_MAX_AGE_SECONDS: seconds.default(7 * 86_400),
  /** How long audit entries are kept, in seconds (90 days). */
  AUDIT_RETENTION_SECONDS: seconds.default(90 * 86_400),
  /** At most this many audit entries are kept, tokens issued and sign-in attempts not counted; the oldest go first. */
  AUDIT_MAX_ENTRIES: integer(z.number().int().min(100)).default(100_000),
  /** At most this many `token.issued` entries are kept, in a log of their own (so they never push other entries out). */
  AUDIT_MAX_TOKEN_ENTRIES: integer(z.number().int().min(100)).default(100_000),
  /**
   * At most this many entries of what anyone can cause without signing in (failed, throttled and
   * unverified sign-ins, password-reset requests, sign-ups) are kept, in a log of their own (so a
   * guessing attack or a sign-up flood never pushes other entries out).
   */
  AUDIT_MAX_ATTEMPT_ENTRIES: integer(z.number().int().min(100)).default(100_000),
  /** After a sync-key rotation the hub keeps signing with the previous key this long, in seconds (one day). */
  SYNC_KEY_OVERLAP_SECONDS: integer(z.number().int().min(0)).default(86_400),
  /**
   * How often each hub process re-reads what it shares through the store (signing keys,
   * cookie keys, its own portal client) and restores what is missing, in milliseconds (5 s).
   */
  HUB_STORE_CHECK_MS: integer(z.number().int().min(50).max(60_000)).default(5_000),
  /**
   * `keys rotate` publishes a new signing key at once and signs with it only after this
   * delay, in milliseconds (90 s): by then every process publishes it and every relying party
   * may refetch it. Must exceed two HUB_STORE_CHECK_MS plus HUB_SUBSITE_JWKS_REFETCH_MS.
   */
  HUB_KEY_ACTIVATION_DELAY_MS: integer(z.number().int().min(100)).default(90_000),
  /**
   * How long a subsite may go without refetching the hub's key set when a token names a key
   * it has not seen, in milliseconds (60 s): openid-client 6 and oauth4webapi refetch only once
   * their cached set is 60 s old; the kit, like jose's createRemoteJWKSet, at most once per 30 s.
   * The activation delay must cover it on top of the publication, or new sign-ins fail at such
   * a subsite until its next refetch (test/key-rotation-rp-cache.test.ts).
   */
  HUB_SUBSITE_JWKS_REFETCH_MS: integer(z.number().int().min(0)).default(60_000),
  /**
   * A replaced signing key stays published this long after its successor starts signing,
   * in seconds. Unset: the longest of the ID token (1 h), refresh token and session lifetimes.
   */
  HUB_KEY_RETIRE_SECONDS: seconds.optional(),
  /**
   * On SIGTERM/SIGINT/SIGHUP, how long the process keeps listening and answering (with /readyz at 503
   * and `Connection: close`) before it closes its listening socket, in milliseconds: long enough
   * for a balancer that polls /readyz to stop sending it requests. A connection the balancer
   * opens while the socket closes is reset by the kernel, and a POST already sent on it is lost.
   */
  SHUTDOWN_DELAY_MS: integer(z.number().int().min(0).max(300_000)).default(0),
  /** On SIGTERM/SIGINT/SIGHUP, how long in-flight requests and the delivery worker may take to finish, in milliseconds. */
  SHUTDOWN_TIMEOUT_MS: integer(z.number().int().min(0).max(600_000)).default(10_000),
  /** Bearer token for `GET /metrics` on the hub's own port (at least 32 characters). Unset: /metrics there is a 404. */
  METRICS_TOKEN: unguessable(z.string().min(32, 'needs at least 32 characters'), 'the token').optional(),
  /** A separate listener that serves only /metrics with no token, protected by its bind address. Unset: none. */
  METRICS_PORT: port('metrics').optional(),
  METRICS_HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['silent', 'error', 'warn', 'info', 'debug']).default('info'),
  /** Who may create an account: `closed` (admins only), `open` (anyone, with e-mail verification), `invite` (admin-issued single-use links). */
  HUB_SIGNUP: z.enum(['closed', 'open', 'invite']).default('closed'),
  /** Accounts that signed up themselves may sign in only once their e-mail address is verified. */
  HUB_REQUIRE_VERIFIED_EMAIL: bool.default(true),
  /**
   * A self-service sign-up that neither verifies its address nor ever signs in is removed this
   * many days after it signed up, freeing its username (signup/unverified-accounts.ts). Whole
   * days, at least 1 (the verification link lasts 24 hours); 0 keeps such accounts for good.
   */
  HUB_UNVERIFIED_ACCOUNT_DAYS: z
    .string()
    .refine((value) => /^\d+$/.test(value), 'must be whole days in decimal digits: at least 1 (the verification link lasts 24 hours, so an account is never removed before its link could be used), or 0 to keep unverified accounts for good')
    .transform(Number)
    .pipe(z.number().int().max(3650, 'must be at most 3650 (ten years); 0 keeps unverified accounts for good'))
    .default(7), // a week, in days
  /** Sign-ups and verification e-mails one address may ask for per window. */
  SIGNUP_MAX_PER_IP: integer(z.number().int().positive()).default(10),
  SIGNUP_WINDOW_SECONDS: seconds.default(3600), // one hour
  /**
   * Sign-up mails (verification links, "someone tried to sign up with your address") to one
   * address an hour: per asking network (an IPv4 address, an IPv6 /64), and all networks
   * together. One network never uses up an address's mails for everyone; only
   * ceil(per address / per network) networks together reach the overall cap.
   */
  SIGNUP_MAILS_PER_NETWORK: integer(z.number().int().positive()).default(3),
  SIGNUP_MAILS_PER_ADDRESS: integer(z.number().int().positive().max(100, 'must be at most 100: it is what bounds the mail one address can be sent through the hub in an hour')).default(10),
  /** Shortest password people may choose themselves, in characters (ASVS 5: at least 8). */
  PASSWORD_MIN_LENGTH: integer(z.number().int().min(8, 'must be at least 8 (OWASP ASVS 5)').max(64)).default(8),
  /** Lowest zxcvbn strength score (0 to 4) of a password people choose themselves. */
  PASSWORD_MIN_SCORE: integer(z.number().int().min(0).max(4)).default(3),
  /** A file of breached passwords refused as new passwords: one password or SHA-1 (hex) a line. Unset: no list. */
  HUB_BREACHED_PASSWORDS_FILE: z.string().optional(),
  /** Outgoing mail (verification, password reset): an SMTP URL, `smtp://user:pass@host:587` or `smtps://…:465`. Unset: no SMTP. */
  SMTP_URL: z
    .string()
    .url()
    .refine((value) => /^smtps?:\/\//i.test(value), 'must be an smtp:// or smtps:// URL')
    .optional(),
  /** The From: of every mail the hub sends. Unset: `sso-hub <no-reply@{issuer host}>`. */
  MAIL_FROM: z
    .string()
    .refine((value) => MAIL_FROM.test(value.trim()), { message: 'must be an address, or a name and an address: no-reply@example.com or "Example" <no-reply@example.com>' })
    .optional(),
  /**
   * Keep outgoing mail in a development outbox in the store, shown at `/dev/outbox`, instead
   * of sending it. For the demo only (`npm start` turns it on when SMTP_URL is unset): anyone
   * who can reach the hub can read that page. Refused together with SMTP_URL.
   */
  MAIL_DEV_OUTBOX: bool.default(false),
});

export const CONFIG_KEYS: string[] = Object.keys(schema.shape);

/** The names HUB_NOT_SETTINGS lists (comma-separated, spaces around them ignored). */
function notSettingNames(value: string | undefined): string[] {
  return (value ?? '').split(',').map((name) => name.trim()).filter(Boolean);
}

/** Whether `name` is one of the hub's settings. */
function isSettingName(name: string): boolean {
  return CONFIG_KEYS.includes(name);
}

export type HubConfig = Readonly<Omit<z.infer<typeof schema>, 'HUB_SESSION_MAX_TTL'>> & {
  /** HUB_SESSION_MAX_TTL with its default applied. */
  readonly HUB_SESSION_MAX_TTL: number;
  readonly secureCookies: boolean;
  /** The Redis to use (from REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS); unset: the embedded store. */
  readonly redis: RedisTarget | undefined;
  /** REDIS_WAIT_REPLICAS with its default applied. */
  readonly redisWaitReplicas: number;
  /** ARGON2_CONCURRENCY, ARGON2_QUEUE_LIMIT and ARGON2_QUEUE_WAIT_MS with their defaults applied. */
  readonly argon2Turns: { concurrency: number; queueLimit: number; maxWaitMs: number };
};

/** The default ARGON2_CONCURRENCY: one per core, keeping at least one of libuv's pool threads free. */
export function defaultArgon2Concurrency(poolSize: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores, poolSize - 1));
}

/** Thrown at start-up; the message names every bad variable and why. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * A refusal in the README's words: a number out of range says its bound and the value given,
 * where zod says "Too big: expected number to be <=65535". Messages written in the schema stay.
 */
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'too_big' && issue.origin === 'number' && issue.message.startsWith('Too big')) {
    return `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}${given(issue.input)}`;
  }
  if (issue.code === 'too_small' && issue.origin === 'number' && issue.message.startsWith('Too small')) {
    return `must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}${given(issue.input)}`;
  }
  return issue.message;
}

function given(input: unknown): string {
  return typeof input === 'number' ? ` (${input} given)` : '';
}

/** Parses and freezes the hub's configuration. Nothing else reads `process.env`. */
export function loadConfig(env: Record<string, string | undefined> = process.env): HubConfig {
  // An empty variable (`FOO=` in a .env file or compose) means "not set", not "set to nothing".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(present, { reportInput: true });
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issueMessage(issue)}`);
    throw new ConfigError(`invalid hub configuration:\n${lines.join('\n')}`);
  }
  const data = result.data;
  // Every check across variables is made and all refusals are said together: an operator fixes
  // them in one go rather than one per start.
  const problems: string[] = [];
  if (data.SMTP_URL && data.MAIL_DEV_OUTBOX) {
    problems.push('MAIL_DEV_OUTBOX: the development outbox is only for a hub without SMTP_URL; unset one of them');
  }
  // A rotated key must be on every process's /jwks before any process signs with it, and a
  // subsite that fetched the key set just before that must be allowed to fetch it again.
  // HUB_SUBSITE_JWKS_REFETCH_MS left at its default (60 s since openid-client 6; 30 s before): an
  // activation delay set for the former 30 s is still taken, and said at start (checkServerStart),
  // so an upgrade does not stop a hub whose environment set HUB_KEY_ACTIVATION_DELAY_MS=60000.
  const refetch = present.HUB_SUBSITE_JWKS_REFETCH_MS === undefined ? Math.min(data.HUB_SUBSITE_JWKS_REFETCH_MS, FORMER_REFETCH_MS) : data.HUB_SUBSITE_JWKS_REFETCH_MS;
  const publishedBy = 2 * data.HUB_STORE_CHECK_MS + refetch;
  if (data.HUB_KEY_ACTIVATION_DELAY_MS <= publishedBy) {
    problems.push(`HUB_KEY_ACTIVATION_DELAY_MS: must be more than twice HUB_STORE_CHECK_MS plus HUB_SUBSITE_JWKS_REFETCH_MS (${publishedBy} ms), so every process publishes a new key, and every subsite can fetch it, before any process signs with it`);
  }
  const pairs: [string, number, string, number][] = [
    ['LOGIN_BACKOFF_BASE_SECONDS', data.LOGIN_BACKOFF_BASE_SECONDS, 'LOGIN_BACKOFF_MAX_SECONDS', data.LOGIN_BACKOFF_MAX_SECONDS],
    ['DELIVERY_BACKOFF_BASE_MS', data.DELIVERY_BACKOFF_BASE_MS, 'DELIVERY_BACKOFF_MAX_MS', data.DELIVERY_BACKOFF_MAX_MS],
  ];
  for (const [base, baseValue, max, maxValue] of pairs) {
    if (baseValue > maxValue) problems.push(`${base}: must not be more than ${max} (${baseValue} > ${maxValue}): the first delay would already be past the longest`);
  }
  if (data.SIGNUP_MAILS_PER_NETWORK >= data.SIGNUP_MAILS_PER_ADDRESS) {
    problems.push(`SIGNUP_MAILS_PER_NETWORK: must be less than SIGNUP_MAILS_PER_ADDRESS (${data.SIGNUP_MAILS_PER_NETWORK} >= ${data.SIGNUP_MAILS_PER_ADDRESS}): otherwise one network could use up an address's sign-up mails for everyone, its owner too`);
  }
  // Only the first two-step key seals; the others open what they sealed before, for good (a record
  // is not sealed again), so refusing an older guessable one would lock its users out of two-step.
  const sealing = data.HUB_TOTP_KEYS?.[0];
  if (sealing !== undefined && !isUnguessable(sealing)) {
    problems.push(`HUB_TOTP_KEYS.0: ${guessableMessage('the first TOTP key, which seals new two-step secrets,')}; put the new key first and keep this one after it: it still opens the secrets it sealed`);
  }
  if (data.METRICS_PORT !== undefined && data.METRICS_PORT === data.HUB_PORT) {
    problems.push(`METRICS_PORT: must differ from HUB_PORT (${data.HUB_PORT}): the metrics listener is a second port; leave METRICS_PORT unset to serve /metrics on the hub's port with METRICS_TOKEN`);
  }
  // The hub speaks plain HTTP only: an https:// issuer means TLS ends at a proxy in front of it.
  // Its cookies are Secure, and express-session and oidc-provider set a Secure cookie only on a
  // request they know came over TLS (X-Forwarded-Proto, read only from a trusted proxy): without
  // it the portal cookie is silently dropped and /auth fails with a 500.
  const secureCookies = data.HUB_ISSUER.startsWith('https://');
  if (secureCookies && !data.HUB_TRUST_PROXY) {
    problems.push('HUB_TRUST_PROXY: must be true when HUB_ISSUER is https:// (the hub serves plain HTTP, so TLS ends at a proxy in front of it; let only that proxy reach the hub)');
  }
  if (data.HUB_TRUST_PROXY_HOPS !== undefined && !data.HUB_TRUST_PROXY) {
    problems.push('HUB_TRUST_PROXY_HOPS: needs HUB_TRUST_PROXY=true (it says how many of the trusted proxies in front of the hub there are); without a trusted proxy, X-Forwarded-For is not read at all');
  }
  if (data.ARGON2_CONCURRENCY !== undefined && data.ARGON2_CONCURRENCY >= data.UV_THREADPOOL_SIZE) {
    problems.push(`ARGON2_CONCURRENCY: must be less than UV_THREADPOOL_SIZE (${data.ARGON2_CONCURRENCY} >= ${data.UV_THREADPOOL_SIZE}): argon2id would hold every libuv pool thread, and ID-token signatures would wait behind every queued sign-in; lower it, or raise UV_THREADPOOL_SIZE`);
  }
  if (data.HUB_SESSION_MAX_TTL !== undefined && data.HUB_SESSION_MAX_TTL < data.HUB_SESSION_TTL) {
    problems.push(`HUB_SESSION_MAX_TTL: must be at least HUB_SESSION_TTL (${data.HUB_SESSION_MAX_TTL} < ${data.HUB_SESSION_TTL}): it bounds how long a sign-in that keeps being used lasts, and an unused one already ends after HUB_SESSION_TTL`);
  }
  const redis = redisTarget(data, problems);
  if (problems.length) throw new ConfigError(`invalid hub configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  const concurrency = data.ARGON2_CONCURRENCY ?? defaultArgon2Concurrency(data.UV_THREADPOOL_SIZE);
  const argon2Turns = { concurrency, queueLimit: data.ARGON2_QUEUE_LIMIT ?? 400 * concurrency, maxWaitMs: data.ARGON2_QUEUE_WAIT_MS };
  const HUB_SESSION_MAX_TTL = data.HUB_SESSION_MAX_TTL ?? Math.max(DEFAULT_SESSION_MAX_TTL, data.HUB_SESSION_TTL);
  return Object.freeze({ ...data, HUB_SESSION_MAX_TTL, secureCookies, redis, redisWaitReplicas: data.REDIS_WAIT_REPLICAS ?? (data.REDIS_SENTINELS || data.REDIS_CLUSTER_NODES ? 1 : 0), argon2Turns });
}

/** HUB_SESSION_MAX_TTL when unset (and HUB_SESSION_TTL is shorter): 30 days, NIST SP 800-63B's re-authentication bound at AAL1. */
export const DEFAULT_SESSION_MAX_TTL = 30 * 86_400;

/** ID token lifetime, in seconds (one hour); a replaced signing key stays published at least this long. */
export const ID_TOKEN_TTL = 3600;

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$|\.localhost$/i;

/**
 * What a server start checks beyond the values themselves: production (`NODE_ENV=production`,
 * as the image sets it) needs HUB_ISSUER set, since its default is the demo's, and refuses the
 * development outbox and the embedded store (all three allowed with HUB_DEMO=true); an http://
 * issuer on a host that is not loopback is served without Secure cookies or HSTS, so it is said
 * at start; a variable that looks like a mistyped setting is ignored, so it is said at start, and
 * refused in production (without HUB_DEMO). The CLI and tests load the configuration without these.
 * @returns warnings to log; throws ConfigError for what must be fixed first.
 */
export function checkServerStart(config: HubConfig, env: Record<string, string | undefined>, processEnv: Record<string, string | undefined> = process.env): string[] {
  // Every refusal is said at once (a first-day operator review took three starts to learn three).
  const problems: string[] = [];
  if (env.NODE_ENV === 'production' && config.HUB_ISSUER === DEMO_ISSUER && !config.HUB_DEMO) {
    problems.push(`HUB_ISSUER: set it in production (NODE_ENV=production) to the https:// URL browsers and subsites reach the hub at, e.g. https://id.example.com (with HUB_TRUST_PROXY=true: TLS ends at your proxy); ${DEMO_ISSUER} (its default, and .env.example's) is the demo's (HUB_DEMO=true runs the demo on purpose)`);
  }
  // Anyone who can reach the hub can read /dev/outbox, password-reset links included.
  if (env.NODE_ENV === 'production' && config.MAIL_DEV_OUTBOX && !config.HUB_DEMO) {
    problems.push('MAIL_DEV_OUTBOX: refused in production (NODE_ENV=production): anyone who can reach the hub could read the outbox at /dev/outbox, password-reset links included; set SMTP_URL and unset MAIL_DEV_OUTBOX (HUB_DEMO=true runs the demo on purpose)');
  }
  const nearMisses = misspelledVariables(env);
  // The embedded store lives inside this one process: behind a balancer each process would
  // have its own users, sessions and codes, so a sign-in begun on one fails on the next, while
  // every process reports ready. A Redis variable mistyped or left out of one replica's
  // environment must stop it, not split the fleet.
  if (env.NODE_ENV === 'production' && !config.redis && !config.HUB_DEMO) {
    const hint = nearMisses.filter((miss) => /^REDIS_/.test(miss.known)).map((miss) => ` (${miss.given} is set: did you mean ${miss.known}?)`).join('');
    problems.push(`REDIS_URL: set it in production (NODE_ENV=production), or REDIS_CLUSTER_NODES or REDIS_SENTINELS${hint}; without one the hub runs on an embedded store inside this process, which no other hub process and no admin CLI can see (HUB_DEMO=true runs on it on purpose)`);
  }
  // A mistyped setting leaves its default in place (HUB_SESION_TTL=3600: twelve-hour sessions, with
  // a warning scrolled past at start; an operator review). In production it is refused, as the CLI
  // refuses it; the REDIS_ ones are named above when no Redis is set.
  if (env.NODE_ENV === 'production' && !config.HUB_DEMO) {
    for (const miss of nearMisses) {
      if (config.redis || !/^REDIS_/.test(miss.known)) problems.push(`${miss.given}: not a setting of the hub: did you mean ${miss.known}? Refused in production (NODE_ENV=production), where the hub would ignore it and run on ${env[miss.known] === undefined ? `${miss.known}'s default` : `the ${miss.known} also set`}: rename it to ${miss.known}, or remove it from the hub's environment, or list it in HUB_NOT_SETTINGS if it belongs to something else`);
    }
  }
  // A replaced signing key retired before the ID tokens it signed expire: subsites can no longer
  // verify them, and every sign-out that sends one as id_token_hint is refused.
  const retire = config.HUB_KEY_RETIRE_SECONDS;
  if (retire !== undefined && retire < ID_TOKEN_TTL) {
    problems.push(`HUB_KEY_RETIRE_SECONDS: must be at least the ID token's lifetime (${ID_TOKEN_TTL} s; ${retire} given): a replaced key must stay on /jwks while tokens it signed are in date, or subsites cannot verify them and every sign-out sending one as id_token_hint is refused; leave it unset for the safe default (the longest of the ID token, refresh token and session lifetimes)`);
  }
  if (problems.length) throw new ConfigError(`invalid hub configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  // Outside production (npm start, a try-out) only said: refused above in production.
  const warnings: string[] = nearMisses.map((miss) => `${miss.given} is not a setting of the hub and is ignored: did you mean ${miss.known}?`);
  const keysFollowedBy = 2 * config.HUB_STORE_CHECK_MS + config.HUB_SUBSITE_JWKS_REFETCH_MS;
  if (config.HUB_KEY_ACTIVATION_DELAY_MS <= keysFollowedBy) {
    // Only with HUB_SUBSITE_JWKS_REFETCH_MS unset (loadConfig refuses it otherwise): taken, as before the default grew.
    warnings.push(`HUB_KEY_ACTIVATION_DELAY_MS (${config.HUB_KEY_ACTIVATION_DELAY_MS} ms) leaves no room for relying parties that refetch the key set at most once a minute (openid-client 6, oauth4webapi): after a key rotation, new sign-ins at such a site can fail for up to ${keysFollowedBy - config.HUB_KEY_ACTIVATION_DELAY_MS + 1} ms; raise it above ${keysFollowedBy} ms (the default is 90000), or, if every subsite uses the kit or jose (30 s), set HUB_SUBSITE_JWKS_REFETCH_MS=${FORMER_REFETCH_MS} to say so`);
  }
  const sessionLife = Math.max(config.HUB_SESSION_TTL, config.HUB_REFRESH_TOKEN_TTL);
  if (retire !== undefined && retire < sessionLife) {
    warnings.push(`HUB_KEY_RETIRE_SECONDS (${retire} s) is less than the session and refresh token lifetimes (${sessionLife} s): after a key rotation, a subsite session older than that which signs out with its ID token as id_token_hint is sent to the hub's error page instead of signed out; leave it unset for the longest of them`);
  }
  // NODE_ENV=production refuses this (above); without it, an https:// issuer is still never a
  // "trying it out" set-up, and a mistyped REDIS_URL must not go unnoticed.
  if (config.secureCookies && !config.redis && !config.HUB_DEMO) {
    warnings.push('HUB_ISSUER is https:// but no Redis is set (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS): this hub runs on an embedded store inside this process, which no other hub process and no admin CLI can see; set one, and NODE_ENV=production, which refuses to start without it');
  }
  // The default issuer names the default port: a hub moved to another one by HUB_PORT alone
  // listens there and sends every browser and subsite to :4000 (npm start's demo derives it).
  const demoPort = Number(new URL(DEMO_ISSUER).port);
  if (!env.HUB_ISSUER && config.HUB_ISSUER === DEMO_ISSUER && config.HUB_PORT !== demoPort) {
    warnings.push(`HUB_ISSUER is not set, so it is its default ${DEMO_ISSUER}, but the hub listens on HUB_PORT ${config.HUB_PORT}: browsers and subsites are sent to port ${demoPort}; set HUB_ISSUER=http://hub.sso.localhost:${config.HUB_PORT} (or the URL of the proxy in front of the hub)`);
  }
  const host = new URL(config.HUB_ISSUER).hostname;
  if (!config.secureCookies && !LOOPBACK_HOSTS.test(host)) {
    warnings.push(`HUB_ISSUER is http:// on ${host}, not a loopback host: the hub's cookies are not Secure and there is no HSTS, so sessions travel in clear; put TLS in front of the hub and set HUB_ISSUER=https://… (with HUB_TRUST_PROXY=true)`);
  }
  // libuv sizes its pool from the process's own environment, once: a value handed to the hub
  // some other way (main(env) from a script) sizes nothing, and the argon2id turns counted on it
  // could take every pool thread.
  const poolSize = processEnv.UV_THREADPOOL_SIZE;
  if (env.UV_THREADPOOL_SIZE !== undefined && env.UV_THREADPOOL_SIZE !== poolSize) {
    warnings.push(`UV_THREADPOOL_SIZE is ${env.UV_THREADPOOL_SIZE} in the hub's settings but ${poolSize ?? 'unset (4 threads)'} in this process's environment, which is what sizes libuv's pool: set it in the environment the process starts with (ARGON2_CONCURRENCY, ${config.argon2Turns.concurrency} here, is meant to leave pool threads free for ID-token signatures)`);
  }
  return warnings;
}

/** A variable the hub does not read whose name is one or two typos away from one it does. */
export interface MisspelledVariable {
  given: string;
  known: string;
}

/**
 * Variables that look like a mistyped hub setting (`REDIS_URI`, `hub_issuer`, `HUB_SESION_TTL`):
 * the schema ignores names it does not know, so a typo would silently leave the default in
 * place. Only names with an underscore, of 6 characters or more, within two edits of a
 * setting (case aside) are reported, so the rest of a process's environment stays quiet.
 */
export function misspelledVariables(env: Record<string, string | undefined>): MisspelledVariable[] {
  const known = Object.keys(schema.shape);
  // Named by the operator as another program's (HUB_NOT_SETTINGS): not a typo.
  const others = new Set(notSettingNames(env.HUB_NOT_SETTINGS));
  const found: MisspelledVariable[] = [];
  for (const [given, value] of Object.entries(env)) {
    if (value === undefined || known.includes(given) || others.has(given) || given.length < 6 || !given.includes('_')) continue;
    const match = known.find((name) => distance(given.toUpperCase(), name) <= 2);
    if (match) found.push({ given, known: match });
  }
  return found;
}

function redisAccess(username: string | undefined, password: string | undefined, tls: boolean, tlsFiles: RedisTlsFiles | undefined): RedisAccess | undefined {
  if (!username && !password && !tls) return undefined;
  return { ...(username ? { username } : {}), ...(password ? { password } : {}), ...(tls ? { tls } : {}), ...(tls && tlsFiles ? { tlsFiles } : {}) };
}

const TLS_FILE_SETTINGS = ['REDIS_TLS_CA_FILE', 'REDIS_TLS_CERT_FILE', 'REDIS_TLS_KEY_FILE'] as const;

/**
 * REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE, read and checked: refused where
 * no connection speaks TLS (they would look set up and do nothing), and when a file cannot be
 * used, naming the variable (never a file's contents). Refusals go into `problems`.
 */
function redisTlsFiles(data: z.infer<typeof schema>, tls: boolean, problems: string[]): RedisTlsFiles | undefined {
  const given = TLS_FILE_SETTINGS.filter((name) => data[name] !== undefined);
  if (given.length === 0) return undefined;
  if (!tls) {
    problems.push(`${given.join(', ')}: only used with TLS: REDIS_TLS=true with REDIS_CLUSTER_NODES or REDIS_SENTINELS, or a rediss:// REDIS_URL`);
    return undefined;
  }
  try {
    return loadRedisTlsFiles({ caFile: data.REDIS_TLS_CA_FILE, certFile: data.REDIS_TLS_CERT_FILE, keyFile: data.REDIS_TLS_KEY_FILE });
  } catch (error) {
    if (!(error instanceof RedisTlsFileError)) throw error;
    problems.push(error.message);
    return undefined;
  }
}

/**
 * Which Redis: a cluster or Sentinel when given (they exclude each other), else REDIS_URL.
 * REDIS_URL gives way rather than conflicting, so a deployment's default for it (compose has
 * one) does not get in the way of a cluster or Sentinel set next to it. Every setting that does
 * not fit goes into `problems` (said with the configuration's other refusals, all at once).
 */
function redisTarget(data: z.infer<typeof schema>, problems: string[]): RedisTarget | undefined {
  const before = problems.length;
  if (data.REDIS_CLUSTER_NODES && data.REDIS_SENTINELS) problems.push('REDIS_CLUSTER_NODES, REDIS_SENTINELS: set only one of them');
  if (data.REDIS_SENTINEL_NAME && !data.REDIS_SENTINELS) problems.push('REDIS_SENTINEL_NAME: only used with REDIS_SENTINELS');
  if (data.REDIS_SENTINELS && !data.REDIS_SENTINEL_NAME) problems.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the name in `sentinel monitor NAME …`)');
  const sentinelOnly = (['REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD'] as const).filter((name) => data[name] !== undefined);
  if (sentinelOnly.length && !data.REDIS_SENTINELS) problems.push(`${sentinelOnly.join(', ')}: only used with REDIS_SENTINELS (the sentinels' own user and password)`);
  if (!data.REDIS_CLUSTER_NODES && !data.REDIS_SENTINELS) {
    // Left unused, a password or TLS would look set up and not be: a single server's are in its URL.
    const unused = (['REDIS_USERNAME', 'REDIS_PASSWORD'] as const).filter((name) => data[name] !== undefined);
    if (unused.length) problems.push(`${unused.join(', ')}: only used with REDIS_CLUSTER_NODES or REDIS_SENTINELS; one server's user and password go in REDIS_URL (redis://USER:PASSWORD@host:6379)`);
    if (data.REDIS_TLS) problems.push('REDIS_TLS: only used with REDIS_CLUSTER_NODES or REDIS_SENTINELS; for one server write REDIS_URL as rediss://host:port');
  }
  const nodeList = Boolean(data.REDIS_CLUSTER_NODES || data.REDIS_SENTINELS);
  const tlsFiles = redisTlsFiles(data, nodeList ? data.REDIS_TLS : /^rediss:\/\//i.test(data.REDIS_URL ?? ''), problems);
  if (problems.length > before) return undefined;
  const access = redisAccess(data.REDIS_USERNAME, data.REDIS_PASSWORD, data.REDIS_TLS, tlsFiles);
  if (data.REDIS_CLUSTER_NODES) return { kind: 'cluster', nodes: data.REDIS_CLUSTER_NODES, ...(access ? { access } : {}) };
  if (data.REDIS_SENTINELS && data.REDIS_SENTINEL_NAME) {
    const sentinelAccess = redisAccess(data.REDIS_SENTINEL_USERNAME, data.REDIS_SENTINEL_PASSWORD, data.REDIS_TLS, tlsFiles);
    return { kind: 'sentinel', sentinels: data.REDIS_SENTINELS, name: data.REDIS_SENTINEL_NAME, ...(access ? { access } : {}), ...(sentinelAccess ? { sentinelAccess } : {}) };
  }
  if (data.REDIS_URL) return { kind: 'single', url: data.REDIS_URL, ...(tlsFiles ? { tlsFiles } : {}) };
  return undefined;
}
