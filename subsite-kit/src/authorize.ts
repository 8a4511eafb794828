import type { Request, Response } from 'express';
import type { KitContext } from './context.js';
import type { HubClient } from './hub-client.js';
import { codeChallengeOf } from './pending-auth.js';
import { safeReturnTo } from './return-to.js';

/**
 * The `prompt` a sign-in link may ask for (OIDC Core §3.1.2.1): `login`, the hub's sign-in page
 * even with a hub session (someone else signs in: an account switch); `select_account`, the same
 * page with the signed-in account offered. `none` is the kit's own silent check, never a link's.
 */
export type InteractivePrompt = 'login' | 'select_account';

/** The prompt of a `?prompt=` value, when it is one a link may ask for. */
export function interactivePrompt(value: unknown): InteractivePrompt | undefined {
  return value === 'login' || value === 'select_account' ? value : undefined;
}

/**
 * Sends the browser to the hub's authorization endpoint (authorization code + PKCE S256,
 * `state`, `nonce`); `silent` adds `prompt=none` so the hub answers at once, never with a page;
 * `recheck` marks a silent re-check of the signed-in session (crossSite); `prompt`, a sign-in
 * link's `login` or `select_account`. Rejects when the hub's discovery document cannot be read,
 * or for a silent check when the hub does not answer ({@link HubClient.ensureReachable}); the caller decides what then.
 */
export async function redirectToHub(ctx: KitContext, req: Request, res: Response, returnTo: string, silent: boolean, recheck = false, prompt?: InteractivePrompt): Promise<void> {
  // A silent check is not something the visitor asked for: sent to a hub that is down, the
  // browser would show a connection error instead of this site's page. The callers serve the
  // page when this rejects (503: Request-Login held back). A sign-in click goes to the hub as it is.
  if (silent) await ctx.hub.ensureReachable();
  const { authorization_endpoint } = await ctx.hub.metadata();
  const pending = ctx.pending.create(returnTo, silent, recheck);
  const url = new URL(authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', ctx.options.clientId);
  url.searchParams.set('redirect_uri', ctx.options.redirectUri);
  url.searchParams.set('scope', ctx.options.scope);
  url.searchParams.set('state', pending.state);
  url.searchParams.set('nonce', pending.nonce);
  url.searchParams.set('code_challenge', codeChallengeOf(pending.codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  if (silent) url.searchParams.set('prompt', 'none');
  else if (prompt) url.searchParams.set('prompt', prompt);
  await ctx.pending.add(req, res, pending);
  res.set('Cache-Control', 'no-store');
  res.redirect(302, url.href);
}

/** Where `sso.router` found itself mounted (its `req.baseUrl`), per request, for a site under a path. */
const routerMounts = new WeakMap<Request, string>();

/** Called by `sso.router` for every request of a site whose redirectUri has a path (`basePath`). */
export function noteRouterMount(req: Request): void {
  routerMounts.set(req, req.baseUrl);
}

/**
 * Path + query of the request as the browser asked for it, made safe to redirect back to: a
 * request for `//evil.example/x` must not come back from the hub as a redirect to another
 * origin. A site whose redirectUri puts it under a path (`basePath`) but whose `sso.router` is
 * mounted at the root sits behind a proxy that strips that path: the browser's address has it,
 * so it is put back in front (whatever the rest of the path looks like: `/app/app/x` arrives as
 * `/app/x`). Mounted under `basePath`, the request already has it.
 */
export function originalPath(req: Request, basePath: string): string {
  const path = req.originalUrl || req.url || '/';
  const stripped = basePath !== '' && routerMounts.get(req) === '';
  return safeReturnTo(stripped ? `${basePath}${path}` : path);
}
