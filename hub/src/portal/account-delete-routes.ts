import { Router, type Request, type Response } from 'express';
import { HubError, TooManyAttemptsError } from '../errors.js';
import { saveSession } from '../http/portal-session.js';
import { clientIp } from '../http/client-ip.js';
import { localeOf } from '../i18n/locale-middleware.js';
import { longCookieOptions } from '../oidc/provider.js';
import { csrf } from '../security/csrf.js';
import type { HubServices } from '../services.js';
import { WrongPasswordError } from '../users/account-settings.js';
import { DeletionNotConfirmedError, WrongCodeError } from '../users/account-deletion.js';
import { currentUser, signInFirst, type SignedIn } from './current-user.js';
import { friendlyError, type FriendlyError } from './friendly-error.js';
import { redirectWithFailedForm, takeFailedForm } from './failed-form.js';
import { renderPage } from './render.js';
import { formField } from './form-field.js';

declare module 'express-session' {
  interface SessionData {
    /** This browser just deleted its account: the next GET /account/deleted says so, once. */
    accountDeleted?: boolean;
  }
}

/** The field of the form an error is about: the page marks it invalid and focuses it. */
type ErrorField = 'password' | 'code' | 'confirm' | 'none';

function fieldOf(error: HubError): ErrorField {
  if (error instanceof WrongPasswordError || error instanceof TooManyAttemptsError) return 'password';
  if (error instanceof WrongCodeError) return 'code';
  if (error instanceof DeletionNotConfirmedError) return 'confirm';
  return 'none'; // the last admin: nothing on the form can fix it
}

const field = formField;

/**
 * "Delete my account" (`/account/delete`): a page of its own that says what happens, asks the
 * current password (and a two-step code where the account has it) and a ticked confirmation,
 * with a CSRF token; then the console's delete path (users/account-deletion.ts) and a
 * signed-out page. A mistake comes back on the page through a redirect (GET /account/delete answers
 * 400, 409 for the last admin, 429 with `Retry-After` when throttled), never a 500.
 */
export function accountDeleteRoutes(services: HubServices): Router {
  const { provider, users, views, twoStep, deletion, config } = services;
  const router = Router();

  async function requireUser(req: Request, res: Response): Promise<SignedIn | undefined> {
    const signedIn = await currentUser(provider, users, req, res);
    if (!signedIn) signInFirst(req, res, '/account/delete');
    return signedIn;
  }

  async function show(req: Request, res: Response, signedIn: SignedIn, error?: FriendlyError & { field: ErrorField }, status = 200) {
    renderPage(res, views, 'hub/account-delete.njk', {
      user: signedIn.user,
      twoStep: await twoStep.isEnabled(signedIn.user.id),
      csrfToken: csrf.generateToken(req),
      error,
    }, status);
  }

  router.get('/account/delete', async (req, res) => {
    const signedIn = await requireUser(req, res);
    if (!signedIn) return;
    // A refused form comes back here (POST-redirect-GET, portal/failed-form.ts): no POST result in the history.
    const refused = takeFailedForm(req, res, '/account/delete');
    await show(req, res, signedIn, refused?.error as (FriendlyError & { field: ErrorField }) | undefined, refused?.status);
  });

  router.post('/account/delete', csrf.csrfSynchronisedProtection, async (req, res) => {
    const signedIn = await requireUser(req, res);
    if (!signedIn) return;
    const proof = { password: field(req, 'current'), code: field(req, 'code', 64).trim(), confirmed: field(req, 'confirm', 10) === 'yes' };
    try {
      await deletion.deleteOwn(signedIn.user, proof, clientIp(req), localeOf(res));
    } catch (error) {
      if (!(error instanceof HubError) || error.status >= 500) throw error;
      return redirectWithFailedForm(req, res, {
        page: '/account/delete',
        status: error.status,
        ...(error instanceof TooManyAttemptsError ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
        error: { ...friendlyError(error), field: fieldOf(error) },
        values: {}, // a password and a code only: nothing kept
      });
    }
    // The hub session is gone with the account (the forced logout); its cookie goes too, and the
    // portal session starts afresh, holding only the notice for the page after.
    provider.createContext(req, res).cookies.set(provider.cookieName('session'), null, longCookieOptions(config.secureCookies));
    await new Promise<void>((resolve, reject) => req.session.regenerate((error) => (error ? reject(error) : resolve())));
    req.session.accountDeleted = true;
    await saveSession(req);
    res.redirect(303, '/account/deleted');
  });

  /** The signed-out page after a deletion: once, for the browser that deleted; otherwise the sign-in page. */
  router.get('/account/deleted', (req, res) => {
    if (!req.session.accountDeleted) return res.redirect(303, '/login');
    delete req.session.accountDeleted;
    renderPage(res, views, 'hub/account-deleted.njk', { mailed: services.mailer.available });
  });

  return router;
}
