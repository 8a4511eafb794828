import type { Response } from 'express';

/**
 * A 5xx answer of the kit saves no session. The usual cause of a 5xx is the store failing, and
 * express-session saves a changed session as the answer ends: that save fails too and
 * express-session hands the failure to `next` after the answer went out, where Express's final
 * handler printed the raw StoreFailure with its stack and cut the connection (a first-day review,
 * after a Redis stall; `routes/late-session-save.test.ts`). Without `req.session` express-session
 * neither saves nor sets its cookie: the request leaves the store as it found it.
 */
export function skipSessionSave(res: Response): void {
  const req = res.req as { session?: unknown } | undefined;
  if (req) req.session = undefined;
}
