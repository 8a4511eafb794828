import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { HubError, msg, ValidationError } from '../errors.js';
import { noStore } from '../security/headers.js';
import { markFromPostedForm, type PostedForms } from './posted-forms.js';

/** The largest form taken. */
const FORM_LIMIT = '8kb';

/**
 * The one query parameter of the GET a form POST becomes: the handle of the form kept in the store
 * (posted-forms.ts). OAuth and OpenID Connect parameter names are lower case with underscores (the
 * IANA "OAuth Parameters" registry has no hyphenated name); this one cannot be one of them.
 */
export const POSTED_FORM_PARAM = 'hub-posted-form';

/**
 * The longest request kept (the endpoint's path and the merged query, in characters). The form's
 * 8 KB do not bound it alone: the action URL's own query comes on top, and a byte that is not
 * UTF-8 is kept as `%EF%BF%BD` (9 characters for 1). Four times a form's worth of room, and one
 * address's kept forms stay within what its sign-in pages could store.
 */
export const MAX_KEPT_LENGTH = 32_768;

/**
 * The browser endpoints that must take a form POST as well as GET, as their canonical paths; with
 * a trailing slash too, which oidc-provider's GET takes (a review: the POST was a 404 there).
 */
const ENDPOINTS: Record<string, string> = { '/auth': '/auth', '/auth/': '/auth', '/session/end': '/session/end', '/session/end/': '/session/end' };

/** Whether this request is a POST to one of those endpoints (express answers it, not oidc-provider). */
export function isPostToBrowserEndpoint(method: string | undefined, url: string | undefined): boolean {
  return method === 'POST' && Object.hasOwn(ENDPOINTS, (url ?? '').split('?', 1)[0]!.toLowerCase());
}

/**
 * Whether this GET may carry a posted form's handle (express answers it, not oidc-provider). Runs
 * on every protocol GET, so a substring test on the raw URL, no parse: only a match is parsed
 * strictly ({@link postAsGet}). A name spelled another way (`hub%2Dposted-form`) does not match:
 * that request goes to oidc-provider as any GET, which ignores a parameter it does not know, and
 * no kept form is read for it.
 */
export function mayCarryPostedForm(method: string | undefined, url: string | undefined): boolean {
  return method === 'GET' && url !== undefined && url.includes(POSTED_FORM_PARAM);
}

/** The query of a request URL, raw (`''` when there is none). */
function rawQuery(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? '' : url.slice(at + 1);
}

/** A form past 8 KB: a 413 page that says so. */
function tooLong(): HubError {
  return new HubError(413, msg('errors:protocolPostTooLong'));
}

/** A handle unknown, used or expired: a page that sends the reader back to the site, not a stack or a 500. */
function expired(): HubError {
  return new ValidationError(msg('errors:protocolPostExpired'));
}

export interface PostAsGetDeps {
  forms: PostedForms;
  /** Counts the POST as a sign-in start of its address (it writes a record before anyone signed in). */
  countStart: RequestHandler;
  /** oidc-provider's request handler: the GET a kept form becomes is handed to it. */
  protocol: (req: IncomingMessage, res: ServerResponse) => unknown;
}

/**
 * OIDC Core §3.1.2.1 and RP-Initiated Logout 1.0 §2: the authorization and logout endpoints
 * must take POST as well as GET. oidc-provider takes POST there only with its cookies
 * `SameSite=None` (`enableHttpPostMethods`); the hub keeps them `Lax`, so a relying party's
 * cross-site form POST would arrive without the hub session it is about (a signed-in user
 * asked to sign in again, a sign-out that finds no session).
 *
 * A form POST is kept in the store under a random single-use handle (the form's parameters after
 * any in the URL, in their order, repeated ones kept, so the endpoint still refuses a repeated
 * parameter) and answered `303` to the same endpoint with only `?hub-posted-form=<handle>`: the
 * browser follows with a top-level GET, which carries the `Lax` cookie; that GET takes the form
 * (once) and the endpoint handles it as if the form had been its query. What the site posted
 * (`id_token_hint`, `login_hint`, `state`, `nonce`, a request object) never reaches the address
 * bar, the history or a proxy's log, as a site that chose POST expects. Nothing is decided at the
 * POST: it only keeps what the GET then carries (CSRF-neutral, as a link to the GET would be).
 *
 * A POST of another content type is a 400 page that says what to send; a form past 8 KB (or a
 * request past {@link MAX_KEPT_LENGTH}), a 413 page. A handle unknown, used or expired: a 400
 * page that says to go back to the site and try again; a handle beside any other parameter is
 * refused (and used up), so nothing can be slipped in next to a kept form. The store down: the
 * hub's 503. None of these answers is cached.
 */
export function postAsGet(deps: PostAsGetDeps): Router {
  const router = Router();
  const form = express.text({ type: 'application/x-www-form-urlencoded', limit: FORM_LIMIT });
  const paths = Object.keys(ENDPOINTS);
  router.post(paths, noStore, deps.countStart, form, async (req: Request, res: Response, next) => {
    const path = ENDPOINTS[req.path.toLowerCase()];
    if (!path) return next();
    if (typeof req.body !== 'string') return next(new ValidationError(msg('errors:protocolPostNotForm')));
    const query = new URLSearchParams(rawQuery(req.url));
    for (const [name, value] of new URLSearchParams(req.body)) query.append(name, value);
    const location = `${path}?${query}`;
    if (location.length > MAX_KEPT_LENGTH) return next(tooLong());
    try {
      const handle = await deps.forms.keep(location);
      res.redirect(303, `${path}?${POSTED_FORM_PARAM}=${handle}`);
    } catch (error) {
      next(error);
    }
  });
  router.get(paths, async (req: Request, res: Response, next) => {
    // Not a HEAD (express routes it here too): only the browser's GET uses a kept form up.
    if (req.method !== 'GET') return next();
    const path = ENDPOINTS[req.path.toLowerCase()];
    const raw = rawQuery(req.url);
    if (!path || !raw.includes(POSTED_FORM_PARAM)) return next();
    const params = new URLSearchParams(raw);
    // The name only inside another parameter's value: any GET.
    if (!params.has(POSTED_FORM_PARAM)) return next();
    noStore(req, res, () => undefined);
    try {
      const handles = params.getAll(POSTED_FORM_PARAM);
      if (params.size !== 1) {
        // A parameter slipped in beside the handle: refused, and the form is used up, not kept for a retry.
        await Promise.all(handles.map((handle) => deps.forms.take(handle)));
        return next(new ValidationError(msg('errors:protocolPostAltered')));
      }
      const location = await deps.forms.take(handles[0]!);
      // A form kept for the other endpoint is not taken here either (used up all the same).
      if (!location?.startsWith(`${path}?`)) return next(expired());
      // oidc-provider reads the request from its URL: the GET, as if the form had been its query.
      // Counted as a sign-in start at its POST already, and linked from no page (posted-forms.ts).
      req.url = location;
      markFromPostedForm(req);
      void deps.protocol(req, res);
    } catch (error) {
      next(error);
    }
  });
  // The body parser's refusal of a form past 8 KB: the same page.
  router.use(paths, ((error, _req, _res, next) => {
    next((error as { type?: unknown } | undefined)?.type === 'entity.too.large' ? tooLong() : error);
  }) as ErrorRequestHandler);
  return router;
}
