import type { Store } from 'express-session';
import type { ResolvedOptions } from './options.js';
import type { HubClient } from './hub-client.js';
import type { KitStore } from './store/store.js';
import type { KitKeys } from './store/keys.js';
import type { SessionIndex } from './session-index.js';
import type { KitCookies } from './cookies.js';
import type { PendingAuthCookie } from './pending-auth.js';
import type { RateLimitedLog } from './rate-limited-log.js';
import type { MountCheck } from './mount-check.js';
import type { KitInstruments } from './metrics/instruments.js';

/** The services the kit's routes and middleware share, assembled once in `kit.ts`. */
export interface KitContext {
  readonly options: ResolvedOptions;
  readonly hub: HubClient;
  readonly kitStore: KitStore;
  readonly keys: KitKeys;
  readonly sessionStore: Store;
  readonly index: SessionIndex;
  readonly cookies: KitCookies;
  readonly pending: PendingAuthCookie;
  /** Rejected sync codes, logged at most once per reason per minute. */
  readonly syncLog: RateLimitedLog;
  /** Misconfiguration warnings (SiteMisconfigured and the like), at most once per kind per minute. */
  readonly configLog: RateLimitedLog;
  /** Says in the log when `sso.router` is mounted elsewhere than `redirectUri` names. */
  readonly mount: MountCheck;
  /** Counters for `/metrics` (no-ops unless the kit was built with the `metrics` option). */
  readonly instruments: KitInstruments;
}

/** The kit's routes, relative to where `sso.router` is mounted. */
export const ROUTES = Object.freeze({
  synclogin: '/sso/synclogin',
  synclogout: '/sso/synclogout',
  callback: '/sso/callback',
  login: '/sso/login',
  logout: '/sso/logout',
  userdelete: '/sso/userdelete',
  backchannelLogout: '/sso/backchannel-logout',
});

/** Paths under this prefix are the kit's own and never trigger lazy verification. */
export const KIT_PATH_PREFIX = '/sso/';

/** `/sso` and what is under it, in any letter case (express matches routes case-insensitively). */
export function isKitPath(path: string): boolean {
  const head = path.slice(0, KIT_PATH_PREFIX.length).toLowerCase();
  return head === KIT_PATH_PREFIX || head === KIT_PATH_PREFIX.slice(0, -1);
}
