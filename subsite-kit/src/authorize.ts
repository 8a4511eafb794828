import type { Request, Response } from 'express';
import type { KitContext } from './context.js';
import { codeChallengeOf } from './pending-auth.js';
import { safeReturnTo } from './return-to.js';

/**
 * Sends the browser to the hub's authorization endpoint (authorization code + PKCE S256,
 * `state`, `nonce`); `silent` adds `prompt=none` so the hub answers at once, never with a page.
 * Rejects when the hub's discovery document cannot be read; the caller decides what then.
 */
export async function redirectToHub(ctx: KitContext, res: Response, returnTo: string, silent: boolean): Promise<void> {
  const { authorization_endpoint } = await ctx.hub.metadata();
  const pending = ctx.pending.create(returnTo, silent);
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
  await ctx.pending.write(res, pending);
  res.set('Cache-Control', 'no-store');
  res.redirect(302, url.href);
}

/**
 * Path + query of the request as the browser asked for it, made safe to redirect back to: a
 * request for `//evil.example/x` must not come back from the hub as a redirect to another
 * origin. Behind a proxy that strips the site's path (`basePath`, from redirectUri), a request
 * arrives without it; the browser's address has it, so it is put back in front.
 */
export function originalPath(req: Request, basePath: string): string {
  const path = req.originalUrl || req.url || '/';
  return safeReturnTo(basePath === '' || isUnder(path, basePath) ? path : `${basePath}${path}`);
}

/** Whether `path` (with its query) is `basePath` or under it, in any letter case (as express matches). */
function isUnder(path: string, basePath: string): boolean {
  const lower = path.toLowerCase();
  const base = basePath.toLowerCase();
  if (!lower.startsWith(base)) return false;
  const next = lower.charAt(base.length);
  return next === '' || next === '/' || next === '?';
}
