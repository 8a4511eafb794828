import type { Request, Response } from 'express';
import { errors as joseErrors } from 'jose';
import type { KitContext } from './context.js';
import type { PendingAuth } from './pending-auth.js';
import type { SsoSessionState } from './session.js';
import { validateIdToken } from './id-token.js';
import { applyAfterCallback } from './after-callback.js';
import { HubRequestError } from './hub-errors.js';
import { destroySession, regenerateSession, saveSession, ssoState } from './session.js';

/**
 * Completes a sign-in: exchanges the code, validates the ID token against this browser's
 * nonce, then starts a fresh session for the user and records it in the indexes.
 * Rejects on any failure; the caller treats the visitor as anonymous.
 */
export async function signIn(ctx: KitContext, req: Request, code: string, pending: PendingAuth): Promise<SsoSessionState> {
  const tokens = await ctx.hub.exchangeCode(code, pending.codeVerifier);
  const validated = await validateIdToken(tokens.id_token, {
    issuers: ctx.options.issuers,
    clientId: ctx.options.clientId,
    nonce: pending.nonce,
    clockSkewSeconds: ctx.options.clockSkewSeconds,
    jwks: ctx.hub.jwks,
  }).catch((error: unknown) => {
    if (error instanceof HubRequestError) throw error;
    // Signed with a key the JWKS read less than 30 s ago lacks (jose reads it again for an unknown
    // key at most once in 30 s): the hub switched to a key it published a moment ago. A 503, as
    // for a hub that could not be reached: it clears by itself, and a silent check is tried again
    // instead of dropping Request-Login on a 502 "configuration problem" (a kit-faults review).
    if (error instanceof joseErrors.JWKSNoMatchingKey) {
      throw new HubRequestError(503, 'ID token check', ctx.options.hubUrl, "the ID token is signed with a key not in the hub's JWKS as last read (the hub rotated its key a moment ago? read again within 30 s)", { cause: error, code: 'invalid_id_token' });
    }
    // jose's messages name the failed check ('unexpected "iss" claim value'), never the token.
    // Refused for its times ("exp", "nbf"): the two clocks are apart more than clockSkewSeconds, as
    // sync codes and hub tokens say (before, only jose's words, with nothing to act on: a review).
    const mistimed = error instanceof joseErrors.JWTExpired || (error instanceof joseErrors.JWTClaimValidationFailed && ['nbf', 'iat'].includes(error.claim));
    const why = `${error instanceof Error ? error.message : 'invalid'}${mistimed ? ": are the hub's and this server's clocks in sync?" : ''}`;
    throw new HubRequestError(502, 'ID token check', ctx.options.hubUrl, `the ID token was refused: ${why}`, { cause: error, code: 'invalid_id_token' });
  });
  const { hubSid } = validated;
  const user = await applyAfterCallback(ctx.options.afterCallback, { claims: validated.user.claims, user: validated.user, req });

  const now = Math.floor(Date.now() / 1000);
  const state: SsoSessionState = {
    user,
    idToken: tokens.id_token,
    clientId: ctx.options.clientId,
    loggedInAt: now,
    verifiedAt: now,
    ...(hubSid ? { hubSid } : {}),
    ...(tokens.access_token ? { accessToken: tokens.access_token } : {}),
    ...(tokens.expires_in ? { accessTokenExpiresAt: now + tokens.expires_in } : {}),
    ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
  };

  const current = ssoState(req);
  // Signed in here as this user already: a crossSite re-check, or another tab's silent check that
  // finished first. The session is kept: regenerated, it was destroyed under the page view that
  // tab had just sent with it, which came back anonymous (one of three tabs reloaded together, in
  // Chromium). No fixation: the session was regenerated when this user signed in to it.
  if (current?.user.sub === user.sub) return reverify(ctx, req, current, state);

  // Regenerate the session at sign-in to prevent fixation: an id planted in this browser before
  // login is never the signed-in one. Regenerating destroys the old session in the store; only
  // then is whoever was signed in here before forgotten in the indexes, so a failed destroy
  // leaves a session that a forced logout can still find.
  const previous = current ? { id: req.sessionID, state: current } : undefined;
  await regenerateSession(req);
  if (previous) await ctx.index.remove(previous.id, previous.state);
  req.session.sso = state;
  try {
    // Indexed before it is saved: a session that a forced logout could not find must not exist.
    await ctx.index.add(req.sessionID, state);
    await saveSession(req);
  } catch (error) {
    await destroySession(req).catch(() => undefined);
    throw error;
  }
  return state;
}

/**
 * A sign-in of a session already signed in as the same user (a crossSite re-check, or another
 * tab's check that finished first): the session keeps its id and the site's data in
 * it (it was regenerated at its sign-in; the hub confirmed the same user), takes the new tokens,
 * and counts as verified now. Its absolute lifetime still runs from the sign-in. Indexed under
 * the hub session it now belongs to before it is saved; the one it leaves is forgotten after.
 */
async function reverify(ctx: KitContext, req: Request, current: SsoSessionState, fresh: SsoSessionState): Promise<SsoSessionState> {
  const state: SsoSessionState = { ...fresh, loggedInAt: current.loggedInAt };
  await ctx.index.add(req.sessionID, state);
  req.session.sso = state;
  await saveSession(req);
  if (current.hubSid && current.hubSid !== state.hubSid) await ctx.index.forgetHubSid(req.sessionID, current.hubSid);
  return state;
}

/**
 * Ends this browser's local session, then removes it from the indexes. Destroyed first: when the
 * destroy fails the session stays listed, so a forced logout can still end it; when only the
 * index removal fails, the stale entry is harmless (readers skip ids whose session is gone).
 */
export async function signOutLocally(ctx: KitContext, req: Request, res?: Response): Promise<void> {
  if (!req.session) return;
  const id = req.sessionID;
  const state = ssoState(req);
  await destroySession(req);
  req.user = undefined;
  if (state) await ctx.index.remove(id, state);
  // The browser drops the ended session's cookie (when this answer can still carry a header).
  if (res && !res.headersSent) res.clearCookie(ctx.options.cookies.session, { path: '/' });
}
