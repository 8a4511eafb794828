import type { Request } from 'express';
import type { KitContext } from './context.js';
import { LoginRequired, SiteMisconfigured } from './errors.js';
import { HubRequestError } from './hub-errors.js';
import { getStoredSession, saveSession, type SsoSessionState, ssoState } from './session.js';
import { signOutLocally } from './sign-in.js';

/** `req.sso`: what a route can ask the kit about the signed-in user. */
export interface SsoRequestApi {
  /**
   * An access token for the hub's APIs, refreshed with the refresh token (kept server-side
   * in the session) when it expires within `refreshBeforeSeconds` (default 60 s).
   * @throws LoginRequired (401) when nobody is signed in, or the hub refused the refresh token
   *   (`invalid_grant`: the user is then signed out here and `Request-Login` set, so the next page
   *   view checks silently with the hub); HubRequestError (503) when the hub is down.
   */
  accessToken(options?: { refreshBeforeSeconds?: number }): Promise<string>;
  /** The hub's userinfo for the signed-in user (with a fresh access token). Same errors as {@link accessToken}. */
  userinfo(): Promise<Record<string, unknown>>;
}

/**
 * `req.sso`, typed as set: the global `Request` declares it optional, since requests that did not
 * go through `sso.router` have none. Every request that did has it, so in a route behind the
 * router `await ssoApi(req).accessToken()` is `await req.sso!.accessToken()` with a check.
 * @throws SiteMisconfigured (a 500 through the kit's error handlers) when `req.sso` is not set: the route is not behind `app.use(sso.router)`.
 */
export function ssoApi(req: Pick<Request, 'sso'>): SsoRequestApi {
  if (!req.sso) throw new SiteMisconfigured('req.sso is not set: this route is not behind sso.router; mount sso.router where redirectUri puts the kit (normally the site root: app.use(sso.router), not under a path of its own such as /auth), before this route');
  return req.sso;
}

const REFRESH_BEFORE_SECONDS = 60; // refresh a token that expires within a minute
const LOCK_POLL_MS = 100;

/** Refreshes in flight in this process, by session id: concurrent requests share one. */
const inFlight = new Map<string, Promise<string>>();

/**
 * The lock outlives a refresh by a second: the hub's discovery document (read first when it is
 * not cached, one hub timeout), the token request (another), then the session save (one store
 * timeout). A lock that lapsed while its refresh still ran would let another process present
 * the same rotating refresh token, which the hub takes for theft (it revokes the grant).
 */
function refreshLockSeconds(ctx: KitContext): number {
  return Math.ceil((2 * ctx.options.hubTimeoutMs + ctx.options.storeTimeoutMs) / 1000) + 1;
}

function claimRefreshLock(ctx: KitContext, lock: string): Promise<boolean> {
  return ctx.kitStore.claimOnce(lock, refreshLockSeconds(ctx));
}

/**
 * A lock this process could not delete lapses on its own (its TTL): taking it over later would
 * be unsafe, as a delete that failed may still have run and another process may hold it now.
 */
async function releaseRefreshLock(ctx: KitContext, lock: string): Promise<void> {
  await ctx.kitStore.delete(lock).catch(() => undefined);
}

/** Builds `req.sso` for a request. */
export function requestApi(ctx: KitContext, req: Request): SsoRequestApi {
  const api: SsoRequestApi = {
    async accessToken(options = {}) {
      const state = ssoState(req);
      if (!state) throw new LoginRequired('nobody is signed in');
      const margin = options.refreshBeforeSeconds ?? REFRESH_BEFORE_SECONDS;
      if (state.accessToken && !expiresWithin(state, margin)) return state.accessToken;
      if (!state.refreshToken) {
        if (state.accessToken && !expiresWithin(state, 0)) return state.accessToken;
        throw new LoginRequired('the access token expired and there is no refresh token (allow this client the refresh_token grant at the hub)');
      }
      const key = req.sessionID;
      let pending = inFlight.get(key);
      if (!pending) {
        pending = refreshOnce(ctx, req, state, margin).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      return pending;
    },
    async userinfo() {
      return ctx.hub.userinfo(await api.accessToken());
    },
  };
  return api;
}

function expiresWithin(state: SsoSessionState, seconds: number): boolean {
  return state.accessTokenExpiresAt !== undefined && state.accessTokenExpiresAt - Math.floor(Date.now() / 1000) <= seconds;
}

/**
 * One refresh across processes: a store lock per session, so two processes never present the
 * same rotating refresh token (the hub would take the second use as theft and revoke the grant).
 * Whoever does not get the lock waits for the winner's tokens in the session store.
 */
async function refreshOnce(ctx: KitContext, req: Request, state: SsoSessionState, margin: number): Promise<string> {
  const lock = ctx.keys.refreshLock(req.sessionID);
  if (!(await claimRefreshLock(ctx, lock))) return waitForOtherRefresh(ctx, req, margin);
  try {
    let tokens;
    try {
      tokens = await ctx.hub.refresh(state.refreshToken!);
    } catch (error) {
      if (error instanceof HubRequestError && error.code === 'invalid_grant') {
        // The hub revoked the grant (sign-out, password change, reuse): this sign-in is over here too.
        ctx.options.logger.warn(`subsite-kit: refresh token refused, signing the user out locally: ${error.logMessage}`);
        await signOutLocally(ctx, req, req.res);
        if (req.res && !req.res.headersSent) {
          // The hub may still have a session (the grant went, e.g. a lost rotation): the next
          // page view checks silently and signs the user in again without a click.
          ctx.cookies.setRequestLogin(req.res);
        }
        throw new LoginRequired('the hub no longer honours this sign-in; sign in again', { cause: error });
      }
      throw error;
    }
    const now = Math.floor(Date.now() / 1000);
    const updated: SsoSessionState = {
      ...state,
      accessToken: tokens.access_token!,
      ...(tokens.expires_in ? { accessTokenExpiresAt: now + tokens.expires_in } : {}),
      // Rotation: the new refresh token replaces the spent one.
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    };
    if (!tokens.expires_in) delete updated.accessTokenExpiresAt;
    req.session.sso = updated;
    await saveSession(req);
    return updated.accessToken!;
  } finally {
    await releaseRefreshLock(ctx, lock);
  }
}

async function waitForOtherRefresh(ctx: KitContext, req: Request, margin: number): Promise<string> {
  const deadline = Date.now() + ctx.options.hubTimeoutMs + 1_000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    const stored = (await getStoredSession(ctx.sessionStore, req.sessionID))?.sso;
    if (!stored) throw new LoginRequired('the session ended while another request refreshed its tokens');
    if (stored.accessToken && !expiresWithin(stored, margin)) {
      req.session.sso = stored;
      return stored.accessToken;
    }
  }
  throw new HubRequestError(503, 'refresh request', ctx.options.hubInternalUrl, 'another request is refreshing this session\'s tokens and did not finish in time');
}
