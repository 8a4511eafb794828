import { csrfSync } from 'csrf-sync';
import type { Request } from 'express';
import { markSaveBeforeAnswer } from '../http/portal-session.js';

/** Synchroniser-token CSRF protection for every portal and admin form (OWASP). */
export const csrf = csrfSync({
  getTokenFromRequest: (req: Request) => {
    const body = req.body as Record<string, unknown> | undefined;
    const fromBody = body && typeof body._csrf === 'string' ? body._csrf : undefined;
    return fromBody ?? (req.headers['x-csrf-token'] as string | undefined);
  },
  // A new token is stored before the page that carries it goes out (renderPage): saved after
  // the answer, a store failure would leave a form whose POST is refused one hop later.
  storeTokenInState: (req: Request, token?: string | null) => {
    req.session.csrfToken = token;
    if (token) markSaveBeforeAnswer(req);
  },
});
