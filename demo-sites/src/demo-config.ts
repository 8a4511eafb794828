import { z } from 'zod';
import { loadConfig } from '../../hub/src/config.js';
import { badPortProblem } from '../../hub/src/fetch-bad-ports.js';
import type { RedisTarget } from '../../hub/src/store/redis-client.js';

/**
 * A port as the hub reads HUB_PORT: decimal digits only. `z.coerce.number` took `0x0FA1` (4001),
 * `1e3` (1000) and ` 4001`, and said "expected number, received NaN" for a word (an operator review).
 */
const port = z
  .string()
  .regex(/^\d+$/, 'must be a port number in decimal digits, 1 to 65535 (no sign, hex, exponent, decimal point or spaces)')
  .transform(Number)
  .pipe(z.number().int().min(1, 'must be a port number, 1 to 65535').max(65_535, 'must be a port number, 1 to 65535'))
  .superRefine((value, ctx) => {
    // Browsers visit every demo site and the hub: a port they refuse would leave every visitor anonymous.
    const problem = badPortProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const secret = z.string().min(32, 'needs at least 32 characters');
/**
 * An http(s) URL with a host. `z.string().url()` took `hub.sso.localhost:4000` (read as the scheme
 * `hub.sso.localhost:`) and `ftp://x`, which the kit then refused naming its option `hubUrl`, or the
 * hub naming HUB_ISSUER, neither of them the variable to fix (an operator review).
 */
const httpUrl = z.string().refine((value) => /^https?:\/\/[^/?#\s]+/i.test(value) && URL.canParse(value), 'must be an http:// or https:// URL with a host, e.g. http://hub.sso.localhost:4000');
/** The hub as browsers see it, also its issuer: an origin only, as HUB_ISSUER must be. */
const origin = httpUrl.refine((value) => !URL.canParse(value) || ['', '/'].includes(new URL(value).pathname), 'must be an origin only (scheme, host, port), as the hub\'s issuer: the hub serves its endpoints at the root');

/**
 * Demo-only defaults. They are public (they are in this file), so the demo must never be
 * exposed: real deployments register clients with `npm run hub -- clients add`.
 */
export const DEMO_SECRETS = {
  bbs: { clientSecret: 'demo-only-bbs-client-secret-0123456789abcdef', syncKey: 'demo-only-bbs-sync-key-0123456789abcdefghij' },
  wiki: { clientSecret: 'demo-only-wiki-client-secret-0123456789abcdef', syncKey: 'demo-only-wiki-sync-key-0123456789abcdefghij' },
  shop: { clientSecret: 'demo-only-shop-client-secret-0123456789abcdef', syncKey: 'demo-only-shop-sync-key-0123456789abcdefghij' },
  forum: { ucKey: 'demo-only-forum-uc-key-0123456789abcdefghijklmnopqrstuv' },
} as const;

/** The UCenter-bound forum: not a kit subsite, a UCenter application (UC_APPID 1) of the hub. */
export interface ForumSettings {
  title: string;
  port: number;
  origin: string;
  internalOrigin: string;
  appId: number;
  ucKey: string;
}

const schema = z.object({
  HUB_PORT: port.default(4000),
  BBS_PORT: port.default(4001),
  WIKI_PORT: port.default(4002),
  SHOP_PORT: port.default(4003),
  /** The UCenter-bound forum (a Discuz! stand-in); default: the hub's port + 4. */
  FORUM_PORT: port.optional(),
  /** The forum's UC_KEY (its key at the hub, UCenter application 1). */
  FORUM_UC_KEY: secret.default(DEMO_SECRETS.forum.ucKey),
  /** Where the hub reaches the forum's api/uc.php server to server. Default: http://127.0.0.1:<FORUM_PORT>. */
  FORUM_INTERNAL_URL: httpUrl.optional(),
  /** Interface the demo servers bind to. */
  DEMO_HOST: z.string().default('127.0.0.1'),
  /** Browser-facing hub URL (also its issuer). Default: http://hub.sso.localhost:<HUB_PORT>. */
  HUB_URL: origin.optional(),
  /** Where the sites' servers reach the hub (Node does not resolve *.localhost). Default: http://127.0.0.1:<HUB_PORT>. */
  HUB_INTERNAL_URL: httpUrl.optional(),
  BBS_CLIENT_SECRET: secret.default(DEMO_SECRETS.bbs.clientSecret),
  WIKI_CLIENT_SECRET: secret.default(DEMO_SECRETS.wiki.clientSecret),
  SHOP_CLIENT_SECRET: secret.default(DEMO_SECRETS.shop.clientSecret),
  BBS_SYNC_KEY: secret.default(DEMO_SECRETS.bbs.syncKey),
  WIKI_SYNC_KEY: secret.default(DEMO_SECRETS.wiki.syncKey),
  SHOP_SYNC_KEY: secret.default(DEMO_SECRETS.shop.syncKey),
  /** Where the hub reaches each site server to server (userdelete, back-channel logout). Default: http://127.0.0.1:<port>. */
  BBS_INTERNAL_URL: httpUrl.optional(),
  WIKI_INTERNAL_URL: httpUrl.optional(),
  SHOP_INTERNAL_URL: httpUrl.optional(),
  /** Sessions of the demo sites; unset: in-process memory. */
  REDIS_URL: z.string().url().optional(),
  /** Or a Redis Cluster / Sentinel, as for the hub (the hub's config.ts parses them). */
  REDIS_CLUSTER_NODES: z.string().optional(),
  REDIS_SENTINELS: z.string().optional(),
  REDIS_SENTINEL_NAME: z.string().optional(),
  REDIS_USERNAME: z.string().optional(),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  REDIS_SENTINEL_USERNAME: z.string().optional(),
  REDIS_TLS: z.string().optional(),
  REDIS_TLS_CA_FILE: z.string().optional(),
  REDIS_TLS_CERT_FILE: z.string().optional(),
  REDIS_TLS_KEY_FILE: z.string().optional(),
  /** Prefix of every Redis key, the hub's and the demo sites' (theirs under `<KEY_PREFIX>demo:<site>:`). */
  KEY_PREFIX: z.string().min(1).default('sso:'),
  SESSION_SECRET: secret.default('demo-only-session-secret-0123456789abcdefghij'),
  /** Bearer token of the sites' /metrics (the kit's counters); unset: no /metrics. */
  DEMO_METRICS_TOKEN: z.string().min(32, 'needs at least 32 characters').optional(),
});

export type SiteName = 'bbs' | 'wiki' | 'shop';

export interface SiteSettings {
  name: SiteName;
  /** The client id at the hub. Default: `name`. */
  clientId?: string;
  title: string;
  port: number;
  /** Browser-facing origin, e.g. http://bbs.sso.localhost:4001. */
  origin: string;
  /** Origin the hub uses server to server, e.g. http://127.0.0.1:4001 or http://bbs:4001. */
  internalOrigin?: string;
  clientSecret: string;
  syncKey: string;
  trusted: boolean;
  crossSite: boolean;
}

export interface DemoConfig {
  hubPort: number;
  host: string;
  hubUrl: string;
  hubInternalUrl: string;
  /** The Redis of the hub and the sites (one server, a cluster or Sentinel); unset: memory. */
  redis: RedisTarget | undefined;
  /** The configured KEY_PREFIX; the sites key their sessions and indexes under it. */
  keyPrefix: string;
  sessionSecret: string;
  /** Bearer token of each site's /metrics; undefined: /metrics is not served. */
  metricsToken: string | undefined;
  sites: Record<SiteName, SiteSettings>;
  forum: ForumSettings;
}

/** The demo's settings from the environment, validated once; a bad value names the variable. */
export function loadDemoConfig(env: Record<string, string | undefined> = process.env): DemoConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    throw new TypeError(`invalid demo configuration:\n${result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  const c = result.data;
  // The forum's default (the hub's port + 4) is checked as a port given would be.
  const forumPortProblem = c.FORUM_PORT === undefined ? badPortProblem(c.HUB_PORT + 4) : undefined;
  if (forumPortProblem) throw new TypeError(`invalid demo configuration:\n  FORUM_PORT: its default, HUB_PORT + 4 = ${c.HUB_PORT + 4}: ${forumPortProblem} (set FORUM_PORT)`);
  const internal = { bbs: c.BBS_INTERNAL_URL, wiki: c.WIKI_INTERNAL_URL, shop: c.SHOP_INTERNAL_URL };
  const site = (name: SiteName, title: string, host: string, p: number, clientSecret: string, syncKey: string, trusted: boolean, crossSite: boolean): SiteSettings => ({
    name, title, port: p, origin: `http://${host}:${p}`, internalOrigin: (internal[name] ?? `http://127.0.0.1:${p}`).replace(/\/+$/, ''), clientSecret, syncKey, trusted, crossSite,
  });
  return Object.freeze({
    hubPort: c.HUB_PORT,
    host: c.DEMO_HOST,
    hubUrl: (c.HUB_URL ?? `http://hub.sso.localhost:${c.HUB_PORT}`).replace(/\/+$/, ''),
    hubInternalUrl: (c.HUB_INTERNAL_URL ?? `http://127.0.0.1:${c.HUB_PORT}`).replace(/\/+$/, ''),
    redis: loadConfig({ REDIS_URL: c.REDIS_URL, REDIS_CLUSTER_NODES: c.REDIS_CLUSTER_NODES, REDIS_SENTINELS: c.REDIS_SENTINELS, REDIS_SENTINEL_NAME: c.REDIS_SENTINEL_NAME, REDIS_USERNAME: c.REDIS_USERNAME, REDIS_PASSWORD: c.REDIS_PASSWORD, REDIS_SENTINEL_PASSWORD: c.REDIS_SENTINEL_PASSWORD, REDIS_SENTINEL_USERNAME: c.REDIS_SENTINEL_USERNAME, REDIS_TLS: c.REDIS_TLS, REDIS_TLS_CA_FILE: c.REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE: c.REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE: c.REDIS_TLS_KEY_FILE }).redis,
    keyPrefix: c.KEY_PREFIX,
    sessionSecret: c.SESSION_SECRET,
    metricsToken: c.DEMO_METRICS_TOKEN,
    forum: ((forumPort: number): ForumSettings => ({
      title: 'Deepin Discuz! (UCenter)',
      port: forumPort,
      origin: `http://forum.sso.localhost:${forumPort}`,
      internalOrigin: (c.FORUM_INTERNAL_URL ?? `http://127.0.0.1:${forumPort}`).replace(/\/+$/, ''),
      appId: 1,
      ucKey: c.FORUM_UC_KEY,
    }))(c.FORUM_PORT ?? c.HUB_PORT + 4),
    sites: {
      // The forum is first-party (trusted: no consent); the wiki asks consent once.
      bbs: site('bbs', 'Deepin Forum', 'bbs.sso.localhost', c.BBS_PORT, c.BBS_CLIENT_SECRET, c.BBS_SYNC_KEY, true, false),
      wiki: site('wiki', 'Deepin Wiki', 'wiki.sso.localhost', c.WIKI_PORT, c.WIKI_CLIENT_SECRET, c.WIKI_SYNC_KEY, false, false),
      // shop.localhost is another registrable domain: cross-site to the hub.
      shop: site('shop', 'Deepin Shop', 'shop.localhost', c.SHOP_PORT, c.SHOP_CLIENT_SECRET, c.SHOP_SYNC_KEY, true, true),
    },
  });
}
