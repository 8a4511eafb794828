import { Router, type Request, type Response } from 'express';
import { HubError } from '../errors.js';
import { clientIp } from '../http/client-ip.js';
import { csrf } from '../security/csrf.js';
import { TooManyRecoveryRequestsError } from '../security/recovery-limits.js';
import type { HubServices } from '../services.js';
import { InvalidResetLinkError } from '../users/password-recovery.js';
import { friendlyError, type FriendlyError } from './friendly-error.js';
import { renderPage } from './render.js';
import { renewDeviceCookie } from './device-renewal.js';
import { localeOf } from '../i18n/locale-middleware.js';
import { formField } from './form-field.js';
import { answerSpentLink, rememberSpentLink } from './spent-links.js';

const field = formField;

function queryToken(req: Request): string {
  return typeof req.query.token === 'string' ? req.query.token.slice(0, 200) : '';
}

/**
 * Forgotten password: `GET/POST /password/forgot` (ask for a link; the same answer for every
 * login, known or not) and `GET/POST /password/reset?token=` (choose the new password). A GET
 * never uses a link up: mail scanners open links, a person submits the form.
 */
export function recoveryRoutes(services: HubServices): Router {
  const { views, recovery, recoveryLimits, mailer } = services;
  const router = Router();

  function showForgot(req: Request, res: Response, options: { error?: FriendlyError; status?: number; login?: string } = {}) {
    const unavailable = !mailer.available;
    renderPage(res, views, 'hub/password-forgot.njk', {
      csrfToken: csrf.generateToken(req),
      sent: req.query.sent === '1' && !options.error,
      unavailable,
      error: options.error,
      login: options.login ?? '',
      minutes: Math.round(services.config.PASSWORD_RESET_TTL / 60),
    }, options.status ?? (unavailable ? 503 : 200));
  }

  function showReset(req: Request, res: Response, token: string, options: { error?: FriendlyError; status?: number; invalid?: boolean; done?: boolean; username?: string } = {}) {
    renderPage(res, views, 'hub/password-reset.njk', {
      csrfToken: csrf.generateToken(req),
      token,
      // In the form for password managers, which save the new password under it (only to the link's holder).
      username: options.username,
      invalid: options.invalid ?? false,
      done: options.done ?? false,
      error: options.error,
      minLength: services.passwords.options.minLength,
      // The answer to the form has the link's token only in its body: the language switch goes
      // back to the link itself, not to the start page (a review: it lost the link).
      ...(token && req.method === 'POST' ? { switchNext: `/password/reset?token=${encodeURIComponent(token)}` } : {}),
    }, options.status ?? 200);
  }

  router.get('/password/forgot', (req, res) => showForgot(req, res));

  router.post('/password/forgot', csrf.csrfSynchronisedProtection, async (req, res) => {
    if (!mailer.available) return showForgot(req, res);
    const login = field(req, 'login', 320).trim();
    if (!login) return showForgot(req, res, { error: { message: 'Please enter your username or e-mail address.', key: 'recovery:forgot.empty' }, status: 400 });
    try {
      await recoveryLimits.request(clientIp(req));
    } catch (error) {
      if (!(error instanceof TooManyRecoveryRequestsError)) throw error;
      res.setHeader('Retry-After', String(error.retryAfterSeconds));
      return showForgot(req, res, { error: friendlyError(error), status: 429, login });
    }
    // Answered now; the account is looked up afterwards, so neither the answer nor its timing
    // tells whether it exists.
    recovery.requestInBackground(login, localeOf(res), clientIp(req));
    res.redirect(303, '/password/forgot?sent=1');
  });

  // Back to the link from the "done" page (or the form sent again, a double click) in the browser
  // that has just used it: the reset is shown done, not "this link has expired, ask for a new
  // one" (a browser review: the person who had just reset took it for a failure). Another
  // browser, or this one after SPENT_LINK_MEMORY_MS, gets the spent link's page.
  const resetAgain = answerSpentLink('password-reset', (res) => res.redirect(303, '/password/reset?done=1'));

  router.get('/password/reset', resetAgain, async (req, res) => {
    // Where a reset that went through lands (post/redirect/get): a reload shows this again,
    // not "link expired" for the link it has just used.
    if (req.query.done === '1' && req.query.token === undefined) return showReset(req, res, '', { done: true });
    const token = queryToken(req);
    let username: string;
    try {
      ({ username } = await recovery.check(token));
    } catch (error) {
      if (error instanceof InvalidResetLinkError) return showReset(req, res, '', { invalid: true, status: 400 });
      throw error;
    }
    showReset(req, res, token, { username });
  });

  router.post('/password/reset', csrf.csrfSynchronisedProtection, resetAgain, async (req, res) => {
    const token = field(req, 'token', 200);
    let user;
    try {
      user = await recovery.reset(token, field(req, 'password'), field(req, 'confirm'), localeOf(res), clientIp(req));
    } catch (error) {
      if (error instanceof InvalidResetLinkError) return showReset(req, res, '', { invalid: true, status: 400 });
      if (error instanceof HubError && error.status < 500) {
        const username = await recovery.check(token).then((user) => user.username, () => undefined);
        return showReset(req, res, token, { error: friendlyError(error), status: error.status, username });
      }
      throw error;
    }
    // The reset renewed the sign-in generation (every device cookie from before proves nothing):
    // this browser, which has just set the new password, is a known device of the account, so
    // a guesser who keeps at it elsewhere cannot hold its owner out right after the reset.
    await renewDeviceCookie(services, res, user.id);
    rememberSpentLink(req, 'password-reset', token, '');
    res.redirect(303, '/password/reset?done=1');
  });

  return router;
}
