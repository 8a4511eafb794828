import { csrfSync } from 'csrf-sync';
import type { Request } from 'express';

/** Synchroniser-token CSRF protection for every portal and admin form (OWASP). */
export const csrf = csrfSync({
  getTokenFromRequest: (req: Request) => {
    const body = req.body as Record<string, unknown> | undefined;
    const fromBody = body && typeof body._csrf === 'string' ? body._csrf : undefined;
    return fromBody ?? (req.headers['x-csrf-token'] as string | undefined);
  },
});
