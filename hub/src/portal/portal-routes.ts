import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import { msg, ValidationError } from '../errors.js';
import { saveSession } from '../http/portal-session.js';
import { safeNext } from '../http/safe-next.js';
import type { HubServices } from '../services.js';
import { currentUser } from './current-user.js';
import { PORTAL_CLIENT_ID } from '../clients/client.js';
import { MAX_RESTARTED_LOGIN } from './stale-sign-in.js';

/** The hub's own client: the portal signs in through the same OIDC engine as every subsite. */
export { PORTAL_CLIENT_ID } from '../clients/client.js';
export const PORTAL_CALLBACK_PATH = '/portal/callback';

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

const MAX_PENDING_LOGINS = 5; // concurrent sign-in tabs remembered per browser

/**
 * Portal sign-in and sign-out. `GET /login` starts an authorization request for the
 * portal client (response_type=none: no tokens, only the hub session), so a portal
 * sign-in creates exactly the session that subsites' silent checks find.
 */
export function portalRoutes(services: HubServices): Router {
  const { provider, users, config } = services;
  const router = Router();

  router.get('/', async (req, res) => {
    const signedIn = await currentUser(provider, users, req, res);
    res.redirect(303, signedIn ? '/account' : '/login');
  });

  router.get('/login', async (req, res) => {
    const next = safeNext(req.query.next);
    if (await currentUser(provider, users, req, res)) return res.redirect(303, next);
    const state = randomBytes(16).toString('base64url');
    const pending = { ...(req.session.portalLogins ?? {}) };
    const keys = Object.keys(pending);
    if (keys.length >= MAX_PENDING_LOGINS) delete pending[keys[0]!];
    pending[state] = next;
    req.session.portalLogins = pending;
    // A portal sign-in form sent after its page expired (stale-sign-in.ts): its new page says so
    // once, with the login typed there. Anyone may link here so; it only fills in the field.
    if (req.query.restarted === '1') req.session.restartedSignIn = { login: typeof req.query.login_hint === 'string' ? req.query.login_hint.slice(0, MAX_RESTARTED_LOGIN) : '' };
    // Stored before the redirect: with the store down, a 503 now, not a dead end one hop later.
    await saveSession(req);
    const auth = new URL('/auth', config.HUB_ISSUER);
    auth.search = new URLSearchParams({
      client_id: PORTAL_CLIENT_ID,
      response_type: 'none',
      scope: 'openid',
      redirect_uri: `${config.HUB_ISSUER}${PORTAL_CALLBACK_PATH}`,
      state,
    }).toString();
    return res.redirect(303, auth.pathname + auth.search);
  });

  router.get(PORTAL_CALLBACK_PATH, async (req, res) => {
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    const pending = req.session.portalLogins ?? {};
    const match = Object.keys(pending).find((candidate) => sameString(candidate, state));
    if (!match) throw new ValidationError(msg('errors:signInLinkExpired'));
    const next = pending[match]!;
    delete pending[match];
    req.session.portalLogins = pending;
    // Cancel on the portal's own sign-in (access_denied): back to the hub's home, no error page.
    if (typeof req.query.error === 'string') return res.redirect(303, '/');
    return res.redirect(303, next);
  });

  /** Sign-out is confirmed with a form (oidc-provider's end-session page), never by a bare GET. */
  router.get('/logout', (_req, res) => {
    res.redirect(303, '/session/end');
  });

  return router;
}
