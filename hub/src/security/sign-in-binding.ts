import { createHash, timingSafeEqual } from 'node:crypto';
import type { CookieOptions } from 'express';
import { randomPool } from '../secrets/random-pool.js';

const NAME = 'hub_signin_';
const TOKEN_BYTES = 32;
/**
 * Binding cookies a browser keeps besides a new sign-in's own: each lives as long as its
 * interaction (an hour), so a browser signing in again and again (a shared kiosk, a synthetic
 * sign-in check) sent one more per sign-in (about 90 bytes each), and after about 90 in an hour
 * its Cookie header would pass nginx's 8 KB line limit (a 400 on every page of the hub).
 * Three are kept (sign-ins in other tabs still resuming); older ones are expired.
 */
export const KEPT_BINDINGS = 3;

/**
 * A finished sign-in is resumed (`/auth/:uid`) only by the browser that finished it.
 *
 * oidc-provider ties a pending authorization request to a browser with two cookies scoped to
 * its path, `hub_interaction` (`/interaction/:uid`) and `hub_resume` (`/auth/:uid`). Being
 * path-scoped, they cannot carry the `__Host-` prefix, so a sibling host (a subsite on the
 * hub's parent domain, an old forum with an XSS) can set them in a visitor's browser for a
 * request of its own (cookie tossing). The login a sign-in leaves on its interaction was then
 * resumed by whichever browser held the resume cookie:
 * - the sign-in page of the attacker's own request, planted in a visitor's browser: the visitor
 *   signs in on the genuine hub page, and the attacker's browser resumes it, signed in as the
 *   visitor (an account takeover);
 * - the attacker's own finished sign-in, its resume cookie planted in a visitor's browser: the
 *   visitor is signed in as the attacker (a login CSRF at the hub and every subsite).
 *
 * So the sign-in also sets this cookie, named after its interaction, holding a random token; its
 * digest and that interaction's uid go into the result, and the resume check
 * (oidc/resume-check.ts) lets only a browser with the token resume the login, also from the
 * consent page's interaction that follows (oidc-provider carries the login's result over). The
 * token is never taken from the request: an attacker cannot choose it, nor read it (`HttpOnly`).
 * Behind https it is a `__Host-` cookie, which no sibling host can set.
 */
export interface SignInBinding {
  /** The cookie's name: one per interaction the sign-in finished on, so sign-ins in two tabs each keep theirs. */
  name: string;
  /** The token, for the cookie. */
  token: string;
  /** SHA-256 of the token (base64url), for the interaction's result. */
  digest: string;
}

/** The binding cookie's name for an interaction (`__Host-` behind https). */
export function signInBindingCookieName(secure: boolean, uid: string): string {
  return `${secure ? '__Host-' : ''}${NAME}${uid}`;
}

function digestOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * The binding cookies of `cookieHeader` past the newest {@link KEPT_BINDINGS}, to expire when a
 * new sign-in sets its own. Browsers send cookies of one path oldest first (RFC 6265 §5.4), so
 * the last ones named are the newest.
 */
export function staleSignInBindings(secure: boolean, cookieHeader: string | undefined): string[] {
  if (!cookieHeader) return [];
  const prefix = `${secure ? '__Host-' : ''}${NAME}`;
  const names = [...new Set(cookieHeader.split(';').map((pair) => pair.slice(0, Math.max(0, pair.indexOf('='))).trim()).filter((name) => name.startsWith(prefix)))];
  return names.slice(0, Math.max(0, names.length - KEPT_BINDINGS));
}

/** A fresh binding for a sign-in that finished on interaction `uid`. */
export function newSignInBinding(secure: boolean, uid: string): SignInBinding {
  const token = randomPool.token(TOKEN_BYTES);
  return { name: signInBindingCookieName(secure, uid), token, digest: digestOf(token) };
}

/** The cookie's options: for the interaction's remaining lifetime, sent to `/auth/:uid` (Path=/, as `__Host-` requires). */
export function signInBindingCookieOptions(secure: boolean, ttlSeconds: number): CookieOptions {
  return { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: Math.max(1, ttlSeconds) * 1000 };
}

/** Whether `token` (the request's cookie) is the one whose digest the sign-in recorded; compared in constant time. */
export function signInBindingMatches(digest: unknown, token: string | undefined): boolean {
  if (typeof digest !== 'string' || !token) return false;
  const expected = Buffer.from(digest);
  const actual = Buffer.from(digestOf(token));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
