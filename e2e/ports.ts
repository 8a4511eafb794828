/** Ports and URLs of the demo the e2e suite starts (not the README demo's, so both can run). */
const base = Number(process.env.E2E_PORT_BASE ?? 4400);

export const PORTS = { hub: base, bbs: base + 1, wiki: base + 2, shop: base + 3, forum: base + 4, down: base + 9, smtp: base + 11, extra: base + 20 };

export const URLS = {
  hub: `http://hub.sso.localhost:${PORTS.hub}`,
  bbs: `http://bbs.sso.localhost:${PORTS.bbs}`,
  wiki: `http://wiki.sso.localhost:${PORTS.wiki}`,
  shop: `http://shop.localhost:${PORTS.shop}`,
  /** The UCenter-bound forum (UCenter application 1 of the hub). */
  forum: `http://forum.sso.localhost:${PORTS.forum}`,
  down: `http://down.sso.localhost:${PORTS.down}`,
};

// One key prefix per run, set before workers start so they inherit it.
process.env.E2E_KEY_PREFIX ??= `e2e:${Date.now()}:`;
export const KEY_PREFIX = process.env.E2E_KEY_PREFIX;
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The environment the demo runs with in e2e, and the one the admin CLI uses to reach its store. */
export const DEMO_ENV: Record<string, string> = {
  HUB_PORT: String(PORTS.hub),
  BBS_PORT: String(PORTS.bbs),
  WIKI_PORT: String(PORTS.wiki),
  SHOP_PORT: String(PORTS.shop),
  FORUM_PORT: String(PORTS.forum),
  REDIS_URL,
  KEY_PREFIX,
  HUB_ISSUER: URLS.hub,
  HUB_URL: URLS.hub,
  LOG_LEVEL: 'warn',
  SYNC_WAIT_MS: '1500',
  // Every test signs in from 127.0.0.1: the per-address limit on sign-in pages is not under test here.
  SIGNIN_STARTS_PER_IP: '100000',
  // The hub's mail goes to a real SMTP server (smtp-server) the global setup runs; tests read it from MAILBOX_DIR.
  SMTP_URL: `smtp://127.0.0.1:${PORTS.smtp}`,
  MAIL_DEV_OUTBOX: 'false',
  // Journeys ask for several links from one address.
  RECOVERY_REQUESTS_PER_IP: '100000',
  // Journeys sign up several accounts from one address.
  SIGNUP_MAX_PER_IP: '100000',
};

/** Where the global setup's SMTP server writes each message it receives (one JSON file each). */
export const MAILBOX_DIR = new URL(`./mailbox/${KEY_PREFIX.replace(/[^a-z0-9]/gi, '-')}/`, import.meta.url).pathname;
