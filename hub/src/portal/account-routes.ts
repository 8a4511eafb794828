import { Router, type Request, type Response } from 'express';
import { ConflictError, HubError, TooManyAttemptsError } from '../errors.js';
import { clientIp } from '../http/client-ip.js';
import type { HubServices } from '../services.js';
import { csrf } from '../security/csrf.js';
import { currentUser, rotateHubSession, signInFirst, type SignedIn } from './current-user.js';
import { renewDeviceCookie } from './device-renewal.js';
import { InvalidEmailLinkError, InvalidUndoLinkError, TooManyMailsError } from '../users/email-change.js';
import { WrongPasswordError } from '../users/account-settings.js';
import type { UserSession } from '../users/account-lifecycle.js';
import { friendlyError, type FriendlyError } from './friendly-error.js';
import { redirectWithFailedForm, takeFailedForm } from './failed-form.js';
import { renderPage } from './render.js';
import { answerSpentLink, rememberSpentLink } from './spent-links.js';
import { localeOf } from '../i18n/locale-middleware.js';
import { formField } from './form-field.js';

/** Which form of the account page an error belongs to. */
type Section = 'name' | 'password' | 'email';

/** The field of the section's form an error is about: the page marks it invalid and focuses it. */
type ErrorField = 'current' | 'new';

/** A wrong or throttled current password is about the current-password field; anything else about what is being changed. */
function fieldOf(error: HubError): ErrorField {
  return error instanceof WrongPasswordError || error instanceof TooManyAttemptsError ? 'current' : 'new';
}

/** Notices shown after a change (`?done=`), by name: never text from the query. */
const DONE = new Set(['name', 'password', 'email-sent', 'email', 'others', 'session']);

/**
 * When a session was last used at the hub's protocol endpoints (a sign-in, a site's sign-in or
 * silent check), epoch seconds: each such request saves the session, which sets its expiry to
 * that moment plus HUB_SESSION_TTL. Undefined when not after its sign-in (nothing to add), and
 * in its last HUB_SESSION_TTL before HUB_SESSION_MAX_TTL, where the expiry is the maximum's
 * (session-ttl.ts) and says nothing of the last use.
 */
function lastUsed(session: UserSession, sessionTtl: number, sessionMaxTtl: number): number | undefined {
  if (session.expiresAt === undefined) return undefined;
  if (session.loginTs !== undefined && session.expiresAt >= session.loginTs + sessionMaxTtl) return undefined;
  const at = Math.min(session.expiresAt - sessionTtl, Math.floor(Date.now() / 1000));
  return session.loginTs !== undefined && at <= session.loginTs + 60 ? undefined : at;
}

const field = formField;

/**
 * The account page: profile (display name), password, e-mail; "where am I signed in",
 * remembered consents and their revocation. Every change is a POST with a CSRF token,
 * audited by the services behind it.
 */
export function accountRoutes(services: HubServices): Router {
  const { provider, users, views, clients, consents, audit, settings, emailChange, config, lifecycle } = services;
  const router = Router();

  async function requireUser(req: Request, res: Response): Promise<SignedIn | undefined> {
    const signedIn = await currentUser(provider, users, req, res);
    if (!signedIn) signInFirst(req, res, '/account');
    return signedIn;
  }

  async function showAccount(req: Request, res: Response, signedIn: SignedIn, options: { error?: { section: Section; field: ErrorField } & FriendlyError; status?: number; values?: Record<string, string> } = {}) {
    const all = await clients.list();
    const byId = new Map(all.map((client) => [client.clientId, client]));
    const visible = (clientId: string) => {
      const client = byId.get(clientId);
      return client && !client.internal ? client : undefined;
    };
    const consentList = await consents.clientsOf(signedIn.user.id);
    const remembered = consentList
      .map((entry) => ({ ...entry, client: visible(entry.clientId) }))
      .filter((entry) => entry.client && !entry.client.trusted);
    // A site that asks consent is signed in to only while the consent holds: withdrawn (it was
    // told to sign the user out) or expired, its next silent check fails (a review: it stayed listed).
    const consented = new Set(consentList.map((entry) => entry.clientId));
    const signedInHere = (clientId: string) => {
      const client = visible(clientId);
      return client && (client.trusted || consented.has(clientId)) ? client : undefined;
    };
    const done = typeof req.query.done === 'string' && DONE.has(req.query.done) ? req.query.done : undefined;
    // The user's other hub sessions (other browsers and devices), with the sites each signed in to,
    // the browser each signed in from and when it was last used.
    const sessions = await lifecycle.sessionsOf(signedIn.user.id);
    const devices = await services.sessionDevices.read([signedIn.sessionUid, ...sessions.map(({ uid }) => uid)]);
    const otherSessions = sessions
      .filter((session) => session.uid !== signedIn.sessionUid)
      .map((session) => ({
        uid: session.uid,
        loginTs: session.loginTs,
        lastSeen: lastUsed(session, config.HUB_SESSION_TTL, config.HUB_SESSION_MAX_TTL),
        device: devices.get(session.uid),
        sites: session.clients.map(({ clientId }) => signedInHere(clientId)?.name).filter(Boolean),
      }));
    renderPage(res, views, 'hub/account.njk', {
      user: signedIn.user,
      signedInTo: signedIn.clientIds.map(signedInHere).filter(Boolean),
      otherSessions,
      thisDevice: devices.get(signedIn.sessionUid),
      consents: remembered,
      csrfToken: csrf.generateToken(req),
      revoked: req.query.revoked === '1',
      done,
      error: options.error,
      values: options.values ?? {},
      minLength: services.passwords.options.minLength,
    }, options.status ?? 200);
  }

  /**
   * A friendly answer on the account page for what the person can fix, through a redirect to
   * the page (POST-redirect-GET, portal/failed-form.ts): the message, its status and what was
   * typed (never a password) come back on GET /account, so Back never lands on a POST result.
   * Anything else goes to the error handler.
   */
  async function failed(req: Request, res: Response, section: Section, error: unknown, values: Record<string, string> = {}) {
    if (!(error instanceof HubError) || error.status >= 500) throw error;
    const retryAfterSeconds = error instanceof TooManyAttemptsError ? error.retryAfterSeconds : error instanceof TooManyMailsError ? services.config.RECOVERY_WINDOW_SECONDS : undefined;
    await redirectWithFailedForm(req, res, {
      page: '/account',
      status: error.status,
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      error: { section, field: fieldOf(error), ...friendlyError(error) },
      values,
    });
  }

  router.get('/account', async (req, res) => {
    const signedIn = await requireUser(req, res);
    if (!signedIn) return;
    const refused = takeFailedForm(req, res, '/account');
    if (!refused) return showAccount(req, res, signedIn);
    await showAccount(req, res, signedIn, { error: refused.error as { section: Section; field: ErrorField } & FriendlyError, status: refused.status, values: refused.values });
  });

  router.post('/account/name', csrf.csrfSynchronisedProtection, async (req, res) => {
    const signedIn = await requireUser(req, res);
    if (!signedIn) return;
    const name = field(req, 'name', 400);
    try {
      await settings.changeName(signedIn.user, name, clientIp(req));
    } catch (error) {
      return failed(req, res, 'name', error, { name });
    }
    res.redirect(303, '/account?done=name');
  });

  router.post('/account/password', csrf.csrfSynchronisedProtection, async (req, res) => {
    const signedIn = await requireUser(req, res);
    if (!signedIn) return;
    try {
      await settings.changePassword(signedIn.user, field(req, 'current'), field(req, 'password'), field(req, 'confirm'), signedIn.sessionUid, clientIp(req), localeOf(res));
    } catch (error) {
      return failed(req, res, 'password', error);
    }
    // This browser stays a known device (the change renewed the sign-in generation: device cookies from before prove nothing).
    await renewDeviceCookie(services, res, signedIn.user.id);
    // This session stays, under a new id: one that leaked with the old password is worthless.
    await rotateHubSession(provider, req, res, config.secureCookies);
    res.redirect(303, '/account?done=password');
  });

  router.post('/account/email', csrf.csrfSynchronisedProtection, async (req, res) => {
    const signedIn = await requireUser(req, res);
    if (!signedIn) return;
    const email = field(req, 'email', 320);
    try {
      await emailChange.request(signedIn.user, field(req, 'current'), email, localeOf(res), clientIp(req));
    } catch (error) {
      return failed(req, res, 'email', error, { email });
    }
    res.redirect(303, '/account?done=email-sent');
  });

  /**
   * The link from the mail to the new address: a page with a button (a GET never changes
   * the address: mail scanners open links). Works without signing in: holding the link
   * proves the new mailbox, and the change was asked for with the password.
   */
  // Back to the link, or a reload of its answer, in the browser that used it: "your address is now …" again.
  const confirmedAgain = answerSpentLink('email-confirm', (res, email) => renderPage(res, views, 'hub/email-confirm.njk', { done: true, email }));
  router.get('/account/email/confirm', confirmedAgain, async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token.slice(0, 200) : '';
    try {
      const { to } = await emailChange.check(token);
      renderPage(res, views, 'hub/email-confirm.njk', { csrfToken: csrf.generateToken(req), token, email: to });
    } catch (error) {
      if (!(error instanceof InvalidEmailLinkError)) throw error;
      renderPage(res, views, 'hub/email-confirm.njk', { invalid: true }, 400);
    }
  });

  router.post('/account/email/confirm', csrf.csrfSynchronisedProtection, confirmedAgain, async (req, res) => {
    const token = field(req, 'token', 200);
    try {
      const changed = await emailChange.confirm(token, clientIp(req), localeOf(res));
      rememberSpentLink(req, 'email-confirm', token, changed.email);
      renderPage(res, views, 'hub/email-confirm.njk', { done: true, email: changed.email });
    } catch (error) {
      if (error instanceof InvalidEmailLinkError) return renderPage(res, views, 'hub/email-confirm.njk', { invalid: true }, 400);
      if (error instanceof ConflictError) return renderPage(res, views, 'hub/email-confirm.njk', { taken: true }, 409);
      throw error;
    }
  });

  /**
   * The link mailed to the OLD address once a change was made: a page with a button (a GET
   * never acts), then the old address is the account's again and every session ends. Works
   * without signing in: holding the link proves the old mailbox.
   */
  // Back to the link, or a reload of its answer, in the browser that used it: "restored" again.
  const restoredAgain = answerSpentLink('email-undo', (res, email) => renderPage(res, views, 'hub/email-undo.njk', { done: true, email }));
  router.get('/account/email/undo', restoredAgain, async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token.slice(0, 200) : '';
    try {
      const { from } = await emailChange.checkUndo(token);
      renderPage(res, views, 'hub/email-undo.njk', { csrfToken: csrf.generateToken(req), token, email: from });
    } catch (error) {
      if (!(error instanceof InvalidUndoLinkError)) throw error;
      renderPage(res, views, 'hub/email-undo.njk', { invalid: true }, 400);
    }
  });

  router.post('/account/email/undo', csrf.csrfSynchronisedProtection, restoredAgain, async (req, res) => {
    const token = field(req, 'token', 200);
    try {
      const restored = await emailChange.undo(token, clientIp(req));
      rememberSpentLink(req, 'email-undo', token, restored.email);
      renderPage(res, views, 'hub/email-undo.njk', { done: true, email: restored.email });
    } catch (error) {
      if (error instanceof InvalidUndoLinkError) return renderPage(res, views, 'hub/email-undo.njk', { invalid: true }, 400);
      if (error instanceof ConflictError) return renderPage(res, views, 'hub/email-undo.njk', { taken: true }, 409);
      throw error;
    }
  });

  /**
   * "Sign out everywhere else": every other hub session of the user ends, with its grants and
   * tokens and a back-channel logout at the subsites it was signed in to; this one stays. For
   * a session the owner does not recognise, without having to change the password.
   */
  router.post('/account/sessions/end-others', csrf.csrfSynchronisedProtection, async (req, res) => {
    const signedIn = await requireUser(req, res);
    if (!signedIn) return;
    const ended = await lifecycle.endOtherSessions(signedIn.user.id, signedIn.sessionUid);
    // Ending them renewed the sign-in generation (device cookies from before prove nothing): this
    // browser, the session that stays, stays a known device, as after a password change, so
    // guessers elsewhere cannot slow the owner right after they ended a session they did not know.
    await renewDeviceCookie(services, res, signedIn.user.id);
    // This session stays, under a new id, as after a password change: a copy of this browser's
    // cookie (a leaked cookie file) is no other session the page could list, and kept going.
    await rotateHubSession(provider, req, res, config.secureCookies);
    await audit.record({ event: 'account.sessions.end-others', actor: signedIn.user.id, subject: signedIn.user.id, ip: clientIp(req), detail: ended });
    res.redirect(303, '/account?done=others');
  });

  /**
   * One other session ends ("Sign out" on its row; ASVS 5 V7.5.2: any or all sessions): with its
   * grants and tokens, and a back-channel logout for the `sid` each subsite was given. Not this
   * browser's own session (that is "Sign out"), and nothing for one that is not the user's.
   */
  router.post('/account/sessions/end', csrf.csrfSynchronisedProtection, async (req, res) => {
    const signedIn = await requireUser(req, res);
    if (!signedIn) return;
    const uid = field(req, 'session', 200);
    if (uid && uid !== signedIn.sessionUid && (await lifecycle.endOwnSession(signedIn.user.id, uid))) {
      await audit.record({ event: 'account.session.end', actor: signedIn.user.id, subject: signedIn.user.id, ip: clientIp(req), detail: { session: uid } });
    }
    res.redirect(303, '/account?done=session');
  });

  router.post('/account/consents/:clientId/revoke', csrf.csrfSynchronisedProtection, async (req, res) => {
    const signedIn = await requireUser(req, res);
    if (!signedIn) return;
    const clientId = String(req.params.clientId);
    if (await consents.find(signedIn.user.id, clientId)) {
      // Withdrawing consent also revokes every token issued under it, on every device, and signs the user out at the site.
      await lifecycle.withdrawConsent(signedIn.user.id, clientId);
      await audit.record({ event: 'consent.revoked', actor: signedIn.user.id, subject: signedIn.user.id, client: clientId, ip: clientIp(req) });
    }
    res.redirect(303, '/account?revoked=1');
  });

  return router;
}
