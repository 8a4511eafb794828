import type { ErrorRequestHandler, Request, Response } from 'express';
import type { HubServices } from '../services.js';
import { currentUser } from './current-user.js';
import { PORTAL_CLIENT_ID } from './portal-routes.js';
import { authorizationRequestPath } from '../oidc/authorization-request.js';
import type { User } from '../users/user.js';
import { renderPage } from './render.js';
import { interactionDetails } from './interaction-details.js';
import { loginForm } from '../users/login-form.js';
import { translator } from '../i18n/i18n.js';
import { localeOf } from '../i18n/locale-middleware.js';
import { safeNext } from '../http/safe-next.js';

const MAX_REMEMBERED = 5; // finished sign-ins remembered per browser, for its back button

type Params = Record<string, unknown>;


/** The longest login carried over to a restarted sign-in (an address is at most 254 characters). */
export const MAX_RESTARTED_LOGIN = 320;
/**
 * Where a finished sign-in was going, for the back button: the portal's `next`, or the
 * subsite's own origin (its registered redirect URI, checked by oidc-provider when the
 * request came in). Not the authorization request again: its `state` is spent.
 */
function destinationOf(req: Request, params: Params): string {
  if (params.client_id === PORTAL_CLIENT_ID) {
    const state = typeof params.state === 'string' ? params.state : '';
    return req.session.portalLogins?.[state] ?? '/account';
  }
  try {
    return `${new URL(String(params.redirect_uri)).origin}/`;
  } catch {
    return '/account';
  }
}

/** Remembers, in this browser's portal session, where a finished sign-in page was going. */
export function rememberFinishedSignIn(req: Request, uid: string, params: Params): void {
  const remembered = { ...(req.session.finishedSignIns ?? {}) };
  const uids = Object.keys(remembered);
  if (uids.length >= MAX_REMEMBERED) delete remembered[uids[0]!];
  remembered[uid] = destinationOf(req, params);
  req.session.finishedSignIns = remembered;
}

/**
 * Remembers a sign-in page this browser cancelled (Cancel, Deny) as finished, and as cancelled:
 * Back to it while signed out says it was cancelled and links back to the site. A sign-in that
 * was finished with a password and then signed out is not called cancelled.
 */
export function rememberCancelledSignIn(req: Request, uid: string, params: Params): void {
  rememberFinishedSignIn(req, uid, params);
  const cancelled = (req.session.cancelledSignIns ?? []).filter((one) => one !== uid && Object.hasOwn(req.session.finishedSignIns ?? {}, one));
  req.session.cancelledSignIns = [...cancelled, uid].slice(-MAX_REMEMBERED);
}

function isStale(error: unknown): boolean {
  const { name, code } = (error ?? {}) as { name?: string; code?: string };
  return name === 'SessionNotFound' || code === 'EBADCSRFTOKEN';
}

/**
 * Whether the stale form was for another account than the one signed in: the password form's
 * typed login (username or e-mail), or the account the two-step and consent forms carry.
 * Forms that name nobody (cancel) and a GET are not.
 */
function formForAnother(req: Request, user: User): boolean {
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (typeof body.login === 'string' && body.login.trim() !== '') {
    // In the form the login is looked up in (ｂｏｂ is bob; an address in lower case), so a name
    // that signs this user in is not taken for another account's.
    const typed = loginForm(body.login.trim());
    return typed !== loginForm(user.username) && typed !== loginForm(user.email);
  }
  return typeof body.account === 'string' && body.account !== '' && body.account !== user.id;
}

/**
 * An old sign-in page in a browser that is signed in by now (the back button after a
 * sign-in; a second tab's form sent after the first tab signed in): no "expired" error,
 * the browser continues. A sign-in page still pending runs its authorization request again
 * (with the session it needs no password, so the form's content is never used); a finished
 * one goes where it was going, or to the account page. Not signed in: the error stands, but for
 * a sign-in this browser cancelled, whose page says so and links back to the site.
 * A form sent for another account than the one signed in meanwhile (a second tab signed in
 * as someone else) does not continue silently as that one: a page says who is signed in and
 * offers to continue as them or to sign out.
 * Redirecting is safe under CSRF: it performs nothing a top-level GET of /auth could not.
 */
export function staleSignIn(services: HubServices): ErrorRequestHandler {
  const { provider, users, views } = services;
  return async (error: unknown, req: Request, res: Response, next: (error?: unknown) => void) => {
    if (!isStale(error)) return next(error);
    const signedIn = await currentUser(provider, users, req, res);
    const uid = String(req.params.uid ?? /^\/interaction\/([^/]+)/.exec(req.path)?.[1] ?? '');
    if (!signedIn) {
      // A sign-in this browser finished (Back from the site after a sign-in, or after Cancel),
      // and is not signed in now (signed out since, or Cancel): the way back to where it was going.
      const finished = req.session.finishedSignIns?.[uid];
      const cancelled = req.session.cancelledSignIns?.includes(uid) === true;
      const t = translator(localeOf(res));
      if (finished !== undefined && /^https?:\/\//.test(finished)) {
        // A site's sign-in: its request (and state) is the site's, so the site starts the next one.
        // Before, a browser signed out since read "This sign-in page has expired" and no link (a
        // browser review: Back a few times after signing out at the hub).
        const kind = cancelled ? 'signInCancelled' : 'signedOutSince';
        return renderPage(res, views, 'hub/error.njk', {
          title: t(`errors:titles.${kind}`),
          description: t(`errors:descriptions.${kind}`),
          back: { href: finished, host: new URL(finished).host },
        }, 400);
      }
      if (finished !== undefined && req.method === 'GET') {
        // The portal's own sign-in (its destination a path of the hub, checked when it was kept):
        // a new sign-in page for the same destination, as the page Back was going to was one.
        return res.redirect(303, `/login?${new URLSearchParams({ next: safeNext(finished) })}`);
      }
      if (req.method === 'POST' && /^\/interaction\/[^/]+\/login$/.test(req.baseUrl + req.path)) return expiredPasswordForm(services, req, res, error, next);
      return next(error);
    }
    let target = req.session.finishedSignIns?.[uid] ?? '/account';
    try {
      const details = await interactionDetails(provider, req, res);
      if (details.uid === uid) target = authorizationRequestPath(details.params);
    } catch {
      // The interaction is gone (finished or expired): the remembered destination.
    }
    if (req.method === 'POST' && formForAnother(req, signedIn.user)) {
      return renderPage(res, views, 'hub/signed-in-as.njk', { name: signedIn.user.name || signedIn.user.username, target });
    }
    res.redirect(303, target);
  };
}

/**
 * The password form of a sign-in page that expired (an hour: its interaction, its CSRF token),
 * sent by a browser that is not signed in: the form was left open, and the password is never
 * used (the form's token cannot be checked). The portal's own sign-in starts again at
 * `GET /login` with the `next` it had (checked there as any), and its new page says so, with
 * the login typed; a site's sign-in cannot be started again here (its request is the site's):
 * the expired page links back to that site. Before, the portal's form said "go back, reload
 * the page" and the reload said "go back to the site you came from", for a sign-in that came
 * from no site (a browser review). The form's `client` and `next` are no secret: a forged one
 * leads to a sign-in page of the hub or to a registered site's own origin, no further.
 */
async function expiredPasswordForm(services: HubServices, req: Request, res: Response, error: unknown, next: (error?: unknown) => void): Promise<void> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const clientId = typeof body.client === 'string' ? body.client : '';
  if (clientId === PORTAL_CLIENT_ID) {
    // Nothing is stored here: the form's token cannot be checked, and this POST is counted by no
    // limit (a diff review: each forged cross-site POST saved a portal session). GET /login, which
    // is counted and stores the sign-in's session anyway, takes the notice and the login over.
    const login = typeof body.login === 'string' ? body.login.trim().slice(0, MAX_RESTARTED_LOGIN) : '';
    const query = new URLSearchParams({ next: safeNext(body.next), restarted: '1', ...(login ? { login_hint: login } : {}) });
    return res.redirect(303, `/login?${query}`);
  }
  const client = clientId === '' ? undefined : await services.clients.find(clientId);
  const site = client && !client.internal ? siteOrigin(client.redirectUris) : undefined;
  if (!site) return next(error);
  const t = translator(localeOf(res));
  renderPage(res, services.views, 'hub/error.njk', {
    title: t('errors:titles.signInExpired'),
    description: t('errors:descriptions.signInExpired'),
    back: { href: `${site}/`, host: new URL(site).host },
  }, 400);
}

/** The origin of a site's first http(s) redirect URI (its sign-in answers go there). */
function siteOrigin(redirectUris: readonly string[]): string | undefined {
  for (const uri of redirectUris) {
    try {
      const url = new URL(uri);
      if (url.protocol === 'https:' || url.protocol === 'http:') return url.origin;
    } catch {
      // not a URL: the next one
    }
  }
  return undefined;
}
