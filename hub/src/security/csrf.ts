import { timingSafeEqual } from 'node:crypto';
import { csrfSync } from 'csrf-sync';
import type { Request } from 'express';
import { markSaveBeforeAnswer } from '../http/portal-session.js';

/** Whether the given token is the stored one (never an empty one), compared in constant time (csrf-sync itself compares with `===`). */
export function sameToken(given: string | undefined, stored: unknown): stored is string {
  if (typeof given !== 'string' || typeof stored !== 'string' || stored === '') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(stored);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The request's token as csrf-sync asks for it: the stored token itself when the request's
 * matches it (compared in constant time here), else nothing, so csrf-sync's own `===` only
 * ever compares a token with itself.
 */
function tokenFromRequest(req: Request, stored: unknown): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  const fromBody = body && typeof body._csrf === 'string' ? body._csrf : undefined;
  const given = fromBody ?? (req.headers['x-csrf-token'] as string | undefined);
  return sameToken(given, stored) ? stored : undefined;
}

/** Synchroniser-token CSRF protection for every portal form (OWASP). */
export const csrf = csrfSync({
  getTokenFromRequest: (req: Request) => tokenFromRequest(req, req.session.csrfToken),
  getTokenFromState: (req: Request) => req.session.csrfToken,
  // A new token is stored before the page that carries it goes out (renderPage): saved after
  // the answer, a store failure would leave a form whose POST is refused one hop later.
  storeTokenInState: (req: Request, token?: string | null) => {
    req.session.csrfToken = token;
    if (token) markSaveBeforeAnswer(req);
  },
});

/**
 * The admin console's own token, kept apart from the portal's and shown on admin pages only
 * (which a script cannot read: see admin-routes.ts). A sync page's `<script>` beacon runs in the
 * hub's origin: with one token for every form, a script left running on a signed-in user's page
 * read it from `/account` and, once an admin signed in in the same browser, sent the console's
 * forms with it (an attacker's review created an admin so).
 */
export const adminCsrf = csrfSync({
  getTokenFromRequest: (req: Request) => tokenFromRequest(req, req.session.adminCsrfToken),
  getTokenFromState: (req: Request) => req.session.adminCsrfToken,
  storeTokenInState: (req: Request, token?: string | null) => {
    req.session.adminCsrfToken = token;
    if (token) markSaveBeforeAnswer(req);
  },
});
