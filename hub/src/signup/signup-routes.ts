import { Router, type Request, type Response } from 'express';
import { clientIp } from '../http/client-ip.js';
import { saveSession } from '../http/portal-session.js';
import { localeOf } from '../i18n/locale-middleware.js';
import { renderPage } from '../portal/render.js';
import { answerSpentLink, rememberSpentLink } from '../portal/spent-links.js';
import { csrf } from '../security/csrf.js';
import type { HubServices } from '../services.js';
import { PasswordRejectedError } from '../users/password-policy.js';
import { BusyError } from '../errors.js';
import { SignupError } from './signup-errors.js';
import { TooManySignupsError } from './signup-limit.js';
import { VERIFY_PATH } from './signup-service.js';

/** How many of this browser's sign-ups the portal session keeps the ids of (signupAttempts). */
const SIGNUP_ATTEMPTS_KEPT = 5;

function field(req: Request, name: string, max = 320): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.slice(0, max) : '';
}

function query(req: Request, name: string): string {
  const value = req.query[name];
  return typeof value === 'string' ? value.slice(0, 200) : '';
}


/** An error a form can show next to its fields: its translation key and values. */
function formError(error: unknown): { key: string; values: Record<string, unknown>; field?: string; status: number; retryAfter?: number } | undefined {
  if (error instanceof SignupError) return { key: error.messageKey, values: error.values, ...(error.field ? { field: error.field } : {}), status: error.status };
  if (error instanceof PasswordRejectedError) return { key: error.messageKey, values: error.values, field: 'password', status: 400 };
  if (error instanceof TooManySignupsError) return { key: error.messageKey, values: {}, status: 429, retryAfter: error.retryAfterSeconds };
  // Too many password hashes waiting: the form again (nothing was created or counted), try later.
  if (error instanceof BusyError) return { key: 'errors:busy', values: {}, status: 503, retryAfter: error.retryAfterSeconds };
  return undefined;
}

/**
 * `/signup` (the form), `/signup/sent` (check your inbox), `/signup/verify` (a page with a
 * button: a GET never uses the link up, so mail scanners that open links cannot spend it),
 * `/signup/resend`. Every form has a CSRF token; the pages are never cached.
 */
export function signupRoutes(services: HubServices): Router {
  const { signup, views, passwords } = services;
  const router = Router();

  const showForm = (req: Request, res: Response, values: Record<string, string>, error?: ReturnType<typeof formError>) => {
    if (error?.retryAfter) res.setHeader('Retry-After', String(error.retryAfter));
    renderPage(res, views, 'hub/signup.njk', {
      csrfToken: csrf.generateToken(req),
      values,
      error,
      minLength: passwords.options.minLength,
      invite: values.invite ?? '',
    }, error?.status ?? 200);
  };

  router.get('/signup', async (req, res) => {
    signup.ensureOpen();
    const token = query(req, 'invite');
    const invite = await signup.requireInvite(token || undefined);
    showForm(req, res, { username: '', email: invite?.email ?? '', name: '', invite: token });
  });

  router.post('/signup', csrf.csrfSynchronisedProtection, async (req, res) => {
    // Bounded well above what the rules allow (64-character usernames, 254-character addresses),
    // so an over-long value is refused by them, never cut to a shorter one that passes: a
    // 70-letter username cut to 64 made an account its owner could not sign in to by the name typed.
    const values = { username: field(req, 'username', 256), email: field(req, 'email', 320), name: field(req, 'name', 200), invite: field(req, 'invite', 200) };
    let created: { id: string };
    try {
      created = await signup.register({
        ...values,
        password: field(req, 'password', 1024),
        confirm: field(req, 'confirm', 1024),
        locale: localeOf(res),
        ip: clientIp(req),
        ...(values.invite ? { invite: values.invite } : {}),
        // This browser's last sign-ups, also one the store cut off after its account was written:
        // sent again with its username (the address corrected, or after the 503 page), it is replaced.
        replaces: [...(req.session.signedUpAccount ? [req.session.signedUpAccount] : []), ...(req.session.signupAttempts ?? [])],
        beforeCreate: async (id) => {
          req.session.signupAttempts = [...(req.session.signupAttempts ?? []), id].slice(-SIGNUP_ATTEMPTS_KEPT);
          await saveSession(req);
        },
      });
    } catch (error) {
      const shown = formError(error);
      if (!shown) throw error;
      return showForm(req, res, values, shown);
    }
    req.session.signedUpAccount = created.id;
    req.session.signupSentTo = values.email.trim();
    await saveSession(req);
    return res.redirect(303, '/signup/sent');
  });

  router.get('/signup/sent', (req, res) => {
    renderPage(res, views, 'hub/signup-sent.njk', { email: req.session.signupSentTo ?? '' });
  });

  // Back to the link, or a reload of its answer, in the browser that used it: "verified" again.
  const verifiedAgain = answerSpentLink('signup-verify', (res, username) => renderPage(res, views, 'hub/signup-verified.njk', { username }));
  router.get(VERIFY_PATH, verifiedAgain, async (req, res) => {
    const token = query(req, 'token');
    const live = token ? await signup.checkLink(token) : false;
    renderPage(res, views, 'hub/signup-verify.njk', { csrfToken: csrf.generateToken(req), token, live }, live ? 200 : 400);
  });

  router.post(VERIFY_PATH, csrf.csrfSynchronisedProtection, verifiedAgain, async (req, res) => {
    const token = field(req, 'token', 200);
    try {
      const user = await signup.verify(token, clientIp(req));
      rememberSpentLink(req, 'signup-verify', token, user.username);
      renderPage(res, views, 'hub/signup-verified.njk', { username: user.username });
    } catch (error) {
      const shown = formError(error);
      if (!shown) throw error;
      renderPage(res, views, 'hub/signup-verify.njk', { csrfToken: csrf.generateToken(req), token: '', live: false, error: shown }, shown.status);
    }
  });

  router.get('/signup/resend', (req, res) => {
    signup.ensureOpen();
    renderPage(res, views, 'hub/signup-resend.njk', { csrfToken: csrf.generateToken(req), login: query(req, 'login') });
  });

  router.post('/signup/resend', csrf.csrfSynchronisedProtection, async (req, res) => {
    const login = field(req, 'login');
    try {
      await signup.resend(login, clientIp(req));
    } catch (error) {
      const shown = formError(error);
      if (!shown) throw error;
      if (shown.retryAfter) res.setHeader('Retry-After', String(shown.retryAfter));
      return renderPage(res, views, 'hub/signup-resend.njk', { csrfToken: csrf.generateToken(req), login, error: shown }, shown.status);
    }
    // The same answer whether or not the login names an account waiting for verification.
    return renderPage(res, views, 'hub/signup-sent.njk', { resent: true });
  });

  return router;
}
