import type { Request, RequestHandler, Response } from 'express';
import { ForbiddenError, HubError, msg } from '../errors.js';
import { clientIp } from '../http/client-ip.js';
import { currentUser } from '../portal/current-user.js';
import { renderPage } from '../portal/render.js';
import { adminCsrf } from '../security/csrf.js';
import type { HubServices } from '../services.js';
import { newFormToken } from './admin-sent-once.js';
import type { Actor } from '../users/account-lifecycle.js';
import { ADMIN_ROLE, type User } from '../users/user.js';

/**
 * Notices a redirect may ask a page to show, by code (`?done=`), so no text is reflected from
 * the URL: each is `admin:notices.<code>` in the locale files.
 */
const NOTICES = new Set(['user-created', 'password-reset', 'disabled', 'enabled', 'already-disabled', 'already-enabled', 'deleted', 'session-ended', 'sessions-ended', 'client-updated', 'client-updated-no-logout', 'client-unchanged', 'client-removed', 'ucenter-removed', 'ucenter-updated', 'ucenter-unchanged', 'secret-overlap-ended', 'retried', 'retried-subsite', 'retried-none', 'retry-busy', 'retry-delivered', 'retry-gone', 'two-step-reset', 'admin-granted', 'admin-revoked']);

function adminOf(res: Response): User {
  return res.locals.admin as User;
}

/**
 * The console is for signed-in users with the admin role only: others are sent to sign in
 * (no session) or refused (403). Every state change is a POST with a CSRF token.
 */
export function requireAdmin(services: HubServices): RequestHandler {
  return async (req, res, next) => {
    const signedIn = await currentUser(services.provider, services.users, req, res);
    if (!signedIn) {
      res.redirect(303, `/login?next=${encodeURIComponent(req.method === 'GET' ? req.originalUrl : '/admin')}`);
      return;
    }
    if (!signedIn.user.roles.includes(ADMIN_ROLE)) throw new ForbiddenError(msg('errors:adminOnly'));
    // HUB_ADMIN_REQUIRE_TOTP: an admin without two-step sign-in enrols first.
    if (services.config.HUB_ADMIN_REQUIRE_TOTP && !(await services.twoStepRecords.isEnabled(signedIn.user.id))) {
      res.redirect(303, '/account/two-step?required=admin');
      return;
    }
    res.locals.admin = signedIn.user;
    next();
  };
}

/** Who is acting, for the audit log. */
export function actorOf(req: Request, res: Response): Actor {
  return { actor: adminOf(res).id, ip: clientIp(req) };
}

/** Renders an admin page with what every admin page needs: the admin, a CSRF token, the section and a notice. */
export function renderAdmin(req: Request, res: Response, services: HubServices, template: string, context: Record<string, unknown> = {}, status = 200): void {
  const notice = typeof req.query.done === 'string' && NOTICES.has(req.query.done) ? req.query.done : undefined;
  renderPage(res, services.views, `hub/admin/${template}`, { admin: adminOf(res), csrfToken: adminCsrf.generateToken(req), onceToken: newFormToken(), notice, ...context }, status);
}

/** A string field of a form body ('' when absent). */
export function field(req: Request, name: string): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.trim() : '';
}

/** A multi-line form field as a list of non-empty lines. */
export function lines(req: Request, name: string): string[] {
  return field(req, name)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
}

/** Every value of a repeated form field (checkboxes). */
export function fields(req: Request, name: string): string[] {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return typeof value === 'string' ? [value] : [];
}

/**
 * The admin account itself cannot be disabled or deleted from the console (no lock-out by
 * accident), nor have its password or two-step sign-in reset there: the account page asks for
 * the current password (or a code) first, and the console must not be a way around it for a
 * borrowed or stolen admin session. Nor can it take its own admin role (another admin can).
 */
export function notSelf(res: Response, userId: string, what: 'disable' | 'delete' | 'password' | 'twoStep' | 'admin'): void {
  if (adminOf(res).id === userId) throw new ForbiddenError(msg(`errors:notOwnAccount.${what}`));
}

/** An error about what a form said (4xx, not a throttle): shown beside the form, with what was typed, not on a page of its own. */
export function isFormError(error: unknown): error is HubError {
  return error instanceof HubError && error.status >= 400 && error.status < 500 && error.status !== 429;
}
