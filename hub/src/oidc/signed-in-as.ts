import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Request, Response } from 'express';
import { longCookieOptions } from './provider.js';
import { ProtocolHooks } from './protocol-hooks.js';

/**
 * Which account last signed in at the hub in this browser: a cookie signed with the hub's
 * cookie keys, written at every portal sign-in and outliving the hub session (a browser-session
 * cookie, or HUB_SESSION_MAX_TTL and {@link SIGNED_IN_AS_GRACE_SECONDS} for "keep me signed in").
 *
 * Why: a sign-out after the hub session expired (logout-sync.ts) knows the user only from the
 * `id_token_hint`, and an ID token is no proof of being that user's browser: every subsite the
 * user signed in to holds one (and RP-initiated logout puts it in a URL, so in logs and
 * histories). Honoured on the hint alone, any holder of it, in a browser of their own, was shown
 * which subsites the user had consented to and got fresh logout codes naming the user for each,
 * ready to plant as `<img>` in a page the user opens (an attacker review). The hint's `sub` is
 * therefore used only when this browser signed in as that account.
 */
/**
 * How long a "keep me signed in" record outlives the hub session's own bound (HUB_SESSION_MAX_TTL
 * after the sign-in), in seconds. A subsite's local session started just before that bound lasts
 * its own `sessionMaxAgeSeconds` past it (the kit's default: a day, often set longer): a sign-out
 * there is a sign-out after the hub session expired, which the record must still be there for.
 * With the bound as its Max-Age, the record expired with the session, and such a sign-out pinged
 * no other site (a diff review).
 */
export const SIGNED_IN_AS_GRACE_SECONDS = 7 * 86_400;

export function signedInAsCookieName(secure: boolean): string {
  // `__Host-` behind https: only the hub's own origin can set it (as the session cookie's name).
  return secure ? '__Host-hub_signed_in_as' : 'hub_signed_in_as';
}

/** Records the account that has just signed in in this browser (the end of every portal sign-in). */
export function recordSignedInAs(provider: Provider, req: Request, res: Response, accountId: string, options: { secure: boolean; remember: boolean; maxTtlSeconds: number }): void {
  provider.createContext(req, res).cookies.set(signedInAsCookieName(options.secure), accountId, {
    ...longCookieOptions(options.secure),
    // A transient sign-in's record ends with the browser, as its subsite sessions do; a remembered
    // one outlives its hub session's bound by the grace.
    ...(options.remember ? { maxAge: (options.maxTtlSeconds + SIGNED_IN_AS_GRACE_SECONDS) * 1000 } : {}),
  });
}

/** Whether this browser's last hub sign-in was `accountId`'s (its cookie present, signed by the hub, naming it). */
export function signedInAs(ctx: KoaContextWithOIDC, secure: boolean, accountId: string): boolean {
  return ctx.cookies.get(signedInAsCookieName(secure), { signed: true }) === accountId;
}

/**
 * Writes the record at every authorization answered for a live hub session whose browser has
 * none naming its account: a sign-in made where none was written (on a process of 9a87e18 or
 * older during a rolling update, or before the upgrade) gets it at its next silent check or
 * site sign-in here. A live session of the account is the proof its sign-in gave. Before, such a
 * browser's sign-out after the hub session expired pinged no other site (an upgrade review).
 */
export function installSignedInAsCatchUp(provider: Provider, options: { secure: boolean; maxTtlSeconds: number }): void {
  ProtocolHooks.of(provider).after(['authorization', 'resume'], (ctx) => {
    const session = ctx.oidc?.session as { accountId?: string; transient?: boolean; loginTs?: number } | undefined;
    const accountId = session?.accountId;
    if (!accountId || ctx.status >= 400 || signedInAs(ctx, options.secure, accountId)) return;
    // "Keep me signed in": as at the sign-in, HUB_SESSION_MAX_TTL after it and the grace.
    const until = (session.loginTs ?? Math.floor(Date.now() / 1000)) + options.maxTtlSeconds + SIGNED_IN_AS_GRACE_SECONDS;
    ctx.cookies.set(signedInAsCookieName(options.secure), accountId, {
      ...longCookieOptions(options.secure),
      ...(session.transient ? {} : { maxAge: Math.max(1, until - Math.floor(Date.now() / 1000)) * 1000 }),
    });
  });
}
