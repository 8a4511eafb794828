import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { HubError, msg, ValidationError } from '../errors.js';
import { noStore } from '../security/headers.js';

/** The largest form taken. */
const FORM_LIMIT = '8kb';

/**
 * The longest URL the form is sent on as (path and query, in characters). Proxies refuse a
 * longer request line (nginx: 8 KB by default, 414), and so does the hub past its 16 KB of
 * request headers (Node: a bare 431, no page). The form's 8 KB alone does not bound it: a
 * character sent on percent-encoded takes 3 to 9 characters in the URL (`<` is `%3C`).
 */
export const MAX_REDIRECT_LENGTH = 8_000;

/** The browser endpoints that must take a form POST as well as GET, as their canonical paths. */
const ENDPOINTS: Record<string, string> = { '/auth': '/auth', '/session/end': '/session/end' };

/** Whether this request is a POST to one of those endpoints (express answers it, not oidc-provider). */
export function isPostToBrowserEndpoint(method: string | undefined, url: string | undefined): boolean {
  return method === 'POST' && Object.hasOwn(ENDPOINTS, (url ?? '').split('?', 1)[0]!.toLowerCase());
}

/** A form too long to be sent on as a URL: a 413 page that says so, not a redirect a proxy or the hub refuses. */
function tooLong(): HubError {
  return new HubError(413, msg('errors:protocolPostTooLong'));
}

/**
 * OIDC Core §3.1.2.1 and RP-Initiated Logout 1.0 §2: the authorization and logout endpoints
 * must take POST as well as GET. oidc-provider takes POST there only with its cookies
 * `SameSite=None` (`enableHttpPostMethods`); the hub keeps them `Lax`, so a relying party's
 * cross-site form POST would arrive without the hub session it is about (a signed-in user
 * asked to sign in again, a sign-out that finds no session). A form POST is answered `303` to
 * the same endpoint with the form's parameters (after any in the URL, in their order,
 * repeated ones kept, so the endpoint still refuses a repeated parameter) as the query: the
 * browser follows with a top-level GET, which carries the `Lax` cookie, and the endpoint
 * handles it as any GET. Nothing is decided here. A POST of another content type is a 400
 * page that says what to send; a form past 8 KB, or whose URL would be past
 * {@link MAX_REDIRECT_LENGTH}, a 413 page. None of these answers is cached.
 */
export function postAsGet(): Router {
  const router = Router();
  const form = express.text({ type: 'application/x-www-form-urlencoded', limit: FORM_LIMIT });
  const paths = Object.keys(ENDPOINTS);
  router.post(paths, noStore, form, (req: Request, res: Response, next) => {
    const path = ENDPOINTS[req.path.toLowerCase()];
    if (!path) return next();
    if (typeof req.body !== 'string') return next(new ValidationError(msg('errors:protocolPostNotForm')));
    const query = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
    for (const [name, value] of new URLSearchParams(req.body)) query.append(name, value);
    const location = `${path}?${query}`;
    if (location.length > MAX_REDIRECT_LENGTH) return next(tooLong());
    res.redirect(303, location);
  });
  // The body parser's refusal of a form past 8 KB: the same page.
  router.use(paths, ((error, _req, _res, next) => {
    next((error as { type?: unknown } | undefined)?.type === 'entity.too.large' ? tooLong() : error);
  }) as ErrorRequestHandler);
  return router;
}
