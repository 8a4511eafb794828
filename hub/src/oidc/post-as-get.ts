import express, { Router, type Request, type Response } from 'express';
import { msg, ValidationError } from '../errors.js';

/** The largest form taken: the redirect carries it in its URL, and proxies refuse longer ones. */
const FORM_LIMIT = '8kb';

/** The browser endpoints that must take a form POST as well as GET, as their canonical paths. */
const ENDPOINTS: Record<string, string> = { '/auth': '/auth', '/session/end': '/session/end' };

/** Whether this request is a POST to one of those endpoints (express answers it, not oidc-provider). */
export function isPostToBrowserEndpoint(method: string | undefined, url: string | undefined): boolean {
  return method === 'POST' && Object.hasOwn(ENDPOINTS, (url ?? '').split('?', 1)[0]!.toLowerCase());
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
 * page that says what to send.
 */
export function postAsGet(): Router {
  const router = Router();
  const form = express.text({ type: 'application/x-www-form-urlencoded', limit: FORM_LIMIT });
  router.post(Object.keys(ENDPOINTS), form, (req: Request, res: Response, next) => {
    const path = ENDPOINTS[req.path.toLowerCase()];
    if (!path) return next();
    if (typeof req.body !== 'string') return next(new ValidationError(msg('errors:protocolPostNotForm')));
    const query = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
    for (const [name, value] of new URLSearchParams(req.body)) query.append(name, value);
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, `${path}?${query}`);
  });
  return router;
}
