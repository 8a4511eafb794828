import type { Request, Response } from 'express';
import { saveSession } from '../http/portal-session.js';
import type { FriendlyError } from './friendly-error.js';

/**
 * A form of the account pages that was refused, kept for the GET the browser is sent to
 * (POST-redirect-GET). Answered in the POST itself, the error page was a POST result in the
 * browser's history: Back to it (after the next, successful, change) made Chrome ask
 * "Confirm Form Resubmission", and a reload sent the form again. Only what the page shows is
 * kept: the message (by key), which form and field it is about, the non-secret values typed
 * (a name, an address; never a password or a code), the status and `Retry-After`.
 */
export interface FailedForm {
  /** The page (path) that shows it: taken only by a GET of that page. */
  page: string;
  status: number;
  retryAfterSeconds?: number;
  error: FriendlyError & { section?: string; field: string };
  values: Record<string, string>;
}

declare module 'express-session' {
  interface SessionData {
    /** A refused account-page form, shown once by the next GET of its page (portal/failed-form.ts). */
    failedForm?: FailedForm;
  }
}

/** Keeps the refused form in the portal session and sends the browser (303) to `failed.page` to see it. */
export async function redirectWithFailedForm(req: Request, res: Response, failed: FailedForm): Promise<void> {
  req.session.failedForm = failed;
  // Stored before the redirect is answered: the GET it leads to must find it (another hub process may answer that).
  await saveSession(req);
  res.redirect(303, failed.page);
}

/**
 * The refused form kept for this page, once (a reload shows the page afresh), with its status
 * and `Retry-After` set on the answer; undefined when there is none for this page.
 */
export function takeFailedForm(req: Request, res: Response, page: string): FailedForm | undefined {
  const failed = req.session?.failedForm;
  if (!failed || failed.page !== page) return undefined;
  delete req.session.failedForm;
  if (failed.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(failed.retryAfterSeconds));
  return failed;
}
