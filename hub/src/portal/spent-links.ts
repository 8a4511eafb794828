import type { Request, RequestHandler, Response } from 'express';
import { digest } from '../store/keys.js';

const MAX_REMEMBERED = 5; // links spent in this browser, remembered for its reload and back buttons
/**
 * How long a spent link is answered with its page: a reload or Back comes within minutes. The
 * portal session lasts an hour; on a shared computer, the next person's Back within that hour
 * showed the verified username or the new address (left out in the last review, now bounded).
 */
export const SPENT_LINK_MEMORY_MS = 10 * 60_000;

/**
 * The mailed links answered again in the browser that spent them: those whose button answers
 * with a page of its own (not a redirect), and the password reset, whose form redirects to its
 * "done" page (a reload is fine) but whose Back opens the link again.
 */
export type SpentLinkKind = 'signup-verify' | 'email-confirm' | 'email-undo' | 'password-reset';

function keyOf(kind: SpentLinkKind, token: string): string {
  // The session holds the link's digest, never the link: tokens are never stored as themselves.
  return `${kind}:${digest(token)}`;
}

/**
 * Remembers, in this browser's portal session, that it has just spent a mailed link and what
 * the page said (the username verified, the address confirmed). Reloading that page sends the
 * form again, and Back opens the link again: both used to say "this link has expired or was
 * already used" to the person who had just used it. Another browser still gets that answer.
 */
export function rememberSpentLink(req: Request, kind: SpentLinkKind, token: string, shown: string, now = Date.now()): void {
  const key = keyOf(kind, token);
  const kept = (req.session.spentLinks ?? []).filter((entry) => entry.key !== key && isRecent(entry, now));
  req.session.spentLinks = [...kept, { key, shown, at: now }].slice(-MAX_REMEMBERED);
}

/** Spent within SPENT_LINK_MEMORY_MS (an entry without its time, which no version keeps now, is not). */
function isRecent(entry: { at?: number }, now: number): boolean {
  return typeof entry.at === 'number' && now - entry.at < SPENT_LINK_MEMORY_MS;
}

/** What the page said when this browser spent `token`, if it did within SPENT_LINK_MEMORY_MS. */
function spentLinkShown(req: Request, kind: SpentLinkKind, token: string, now: number): string | undefined {
  if (!token) return undefined;
  const key = keyOf(kind, token);
  const entry = req.session.spentLinks?.find((candidate) => candidate.key === key);
  return entry && isRecent(entry, now) ? entry.shown : undefined;
}

/** The link's token a request carries: the query's `token` on the link (GET), the form's on its button (POST). */
function linkToken(req: Request): string {
  const value = req.method === 'POST' ? (req.body as Record<string, unknown> | undefined)?.token : req.query.token;
  return typeof value === 'string' ? value.slice(0, 200) : '';
}

/**
 * Route middleware for a mailed link's page and its button: when this browser spent the link
 * the request carries, `answer` shows what its page said ({@link rememberSpentLink}); otherwise
 * the route goes on. Back to the link (GET) and a reload of the answer (the form sent again, after
 * the CSRF check) both come here.
 */
export function answerSpentLink(kind: SpentLinkKind, answer: (res: Response, shown: string) => void): RequestHandler {
  return (req, res, next) => {
    const shown = spentLinkShown(req, kind, linkToken(req), Date.now());
    if (shown === undefined) return next();
    answer(res, shown);
  };
}
