import { csrfSync } from 'csrf-sync';
import type { Request } from 'express';
import { markSaveBeforeAnswer } from '../http/portal-session.js';

function tokenFromRequest(req: Request): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  const fromBody = body && typeof body._csrf === 'string' ? body._csrf : undefined;
  return fromBody ?? (req.headers['x-csrf-token'] as string | undefined);
}

/** Synchroniser-token CSRF protection for every portal form (OWASP). */
export const csrf = csrfSync({
  getTokenFromRequest: tokenFromRequest,
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
  getTokenFromRequest: tokenFromRequest,
  getTokenFromState: (req: Request) => req.session.adminCsrfToken,
  storeTokenInState: (req: Request, token?: string | null) => {
    req.session.adminCsrfToken = token;
    if (token) markSaveBeforeAnswer(req);
  },
});
