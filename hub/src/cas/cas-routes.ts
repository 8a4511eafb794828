import express, { Router, type Request, type Response } from 'express';
import type { SubsiteClient } from '../clients/client.js';
import { HubError, msg, ValidationError } from '../errors.js';
import type { HubServices } from '../services.js';
import { internalRequest } from './internal-request.js';
import { markProfileRequest } from './profile-answer.js';
import { markCasTokenRequest } from './token-answer.js';

const BODY_LIMIT = '32kb'; // token and profile requests are small
/** Parameters that are credentials: in a query string they end up in logs and proxies. */
const CREDENTIAL_PARAMS = ['client_secret', 'password', 'refresh_token', 'code', 'access_token'];
/** Scopes asked for a CAS client that names none: what its profile answer needs. */
const CAS_DEFAULT_SCOPES = ['openid', 'profile', 'email'];

/** The methods each CAS-style endpoint takes (express answers HEAD with GET's route). */
const CAS_METHODS: Readonly<Record<string, readonly string[]>> = {
  '/oauth2.0/authorize': ['GET'],
  '/oauth2.0/accessToken': ['GET', 'POST'],
  '/oauth2.0/profile': ['GET', 'POST'],
};

/** The query string of the request as sent (express's parsed `req.query` loses duplicates). */
function queryOf(req: Request): URLSearchParams {
  const index = req.originalUrl.indexOf('?');
  return new URLSearchParams(index === -1 ? '' : req.originalUrl.slice(index + 1));
}

/** The form body as pairs (a repeated name stays repeated, so oidc-provider can refuse it). */
function bodyOf(req: Request): [string, string][] {
  const body = req.body as Record<string, string | string[]> | undefined;
  if (!body || typeof body !== 'object') return [];
  return Object.entries(body).flatMap(([name, value]) => (Array.isArray(value) ? value.map((item) => [name, item] as [string, string]) : [[name, value]]));
}

/** The client id of an HTTP Basic header (RFC 6749 §2.3.1: form-encoded, then base64). */
function basicClientId(header: string | undefined): string | undefined {
  if (!header?.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString();
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  try {
    return decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** An RFC 6749 §5.2 error answer, never cached. */
function oauthError(res: Response, status: number, error: string, description: string): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res.status(status).json({ error, error_description: description });
}

/** Credentials found in the query string; the caller must refuse them unless the client allows it. */
function credentialsInQuery(query: URLSearchParams): string[] {
  return CREDENTIAL_PARAMS.filter((name) => query.has(name));
}

function defaultScope(client: SubsiteClient): string {
  const registered = new Set(client.scope.split(' '));
  return CAS_DEFAULT_SCOPES.filter((scope) => registered.has(scope)).join(' ');
}

/**
 * CAS 6.3-style OAuth 2.0 endpoints (seed 001) for clients written against a CAS server:
 * `/oauth2.0/authorize`, `/oauth2.0/accessToken` and `/oauth2.0/profile`. Each is a thin
 * adapter that hands the request, in the standard shape, to oidc-provider's own
 * `/auth`, `/token` and `/me`, so codes, tokens, rotation, revocation, introspection and
 * forced logout are the same engine's. Off unless a client is registered with `casCompat`;
 * credentials in a query string only where the client also has `allowSecretInQuery`.
 */
export function casRoutes(services: HubServices): Router {
  const { clients, provider } = services;
  const engine = provider.callback();
  const pathOf = (route: 'authorization' | 'token' | 'userinfo') => new URL(provider.urlFor(route)).pathname;
  const router = Router();
  const parseForm = express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 20 });
  // A body the parser refuses (too large, too many parameters) is an RFC 6749 §5.2 error, not a page.
  const form = (req: Request, res: Response, next: (error?: unknown) => void) =>
    parseForm(req, res, (error?: unknown) =>
      error ? oauthError(res, 400, 'invalid_request', 'the request body is too large or has too many parameters') : next(),
    );

  // Step 1 of seed 001: the browser is sent on to the standard authorization endpoint.
  router.get('/oauth2.0/authorize', async (req, res) => {
    const query = queryOf(req);
    const client = await clients.find(query.get('client_id') ?? '');
    if (!client?.casCompat) {
      throw new ValidationError(msg('errors:casNotEnabled'));
    }
    if (!query.has('scope')) query.set('scope', defaultScope(client));
    res.redirect(302, `${pathOf('authorization')}?${query.toString()}`);
  });

  // Step 2: the seed's GET with every parameter in the query, or a POST with a form body.
  async function accessToken(req: Request, res: Response): Promise<void> {
    const query = queryOf(req);
    // Drop the query from the request now: a secret in it must reach nothing that logs URLs.
    req.url = req.path;
    const params = new URLSearchParams([...query, ...bodyOf(req)]);
    // Every client the request names, by parameter and by Basic header: the engine authenticates
    // one of them, so each must have opted in. (An empty `client_id=`, which the engine ignores,
    // once hid the Basic header's client from this check: a review.)
    const given = params.getAll('client_id').filter(Boolean);
    // RFC 6749 §3.2: a parameter once at most (the engine refuses it too; refused here before any lookup).
    if (given.length > 1) return oauthError(res, 400, 'invalid_request', "'client_id' parameter must not be provided twice");
    const named = new Set([...given, basicClientId(req.headers.authorization)].filter((id): id is string => Boolean(id)));
    const found = await Promise.all([...named].map((id) => clients.find(id)));
    if (found.some((client) => client && !client.casCompat)) {
      return oauthError(res, 400, 'unauthorized_client', 'the CAS-style endpoints are not enabled for this client; use the token endpoint');
    }
    const inQuery = credentialsInQuery(query);
    if (inQuery.length > 0 && !(found.length > 0 && found.every((client) => client?.allowSecretInQuery))) {
      return oauthError(res, 400, 'invalid_request', `${inQuery.join(', ')} must not be sent in the query string for this client; send a form body (POST)`);
    }
    const headers: Record<string, string> = req.headers.authorization ? { authorization: req.headers.authorization } : {};
    const internal = internalRequest(req, { method: 'POST', path: pathOf('token'), headers, form: params });
    markCasTokenRequest(internal);
    await engine(internal, res);
  }
  // HEAD is not a token request: express answers it with the GET route, which redeemed the code
  // in the query and threw the answer away (a link checker, a proxy's or a browser's preflight
  // look spent the user's single-use code: a diff review). A 405 with what is allowed, as for any
  // other method here; redeeming happens on GET or POST only.
  router.head('/oauth2.0/accessToken', (_req, res) => {
    res.setHeader('Allow', CAS_METHODS['/oauth2.0/accessToken']!.join(', '));
    oauthError(res, 405, 'invalid_request', 'HEAD is not allowed at /oauth2.0/accesstoken; use GET or POST');
  });
  router.get('/oauth2.0/accessToken', accessToken);
  router.post('/oauth2.0/accessToken', form, accessToken);

  // Step 3: the access token by query, form body or Bearer header; one of them only (RFC 6750 §2).
  async function profile(req: Request, res: Response): Promise<void> {
    const query = queryOf(req);
    req.url = req.path;
    const fromQuery = query.getAll('access_token');
    const fromBody = bodyOf(req).filter(([name]) => name === 'access_token').map(([, value]) => value);
    const fromHeader = req.headers.authorization;
    const given = fromQuery.length + fromBody.length + (fromHeader ? 1 : 0);
    if (given > 1) return oauthError(res, 400, 'invalid_request', 'access token must only be provided using one mechanism');
    const token = fromQuery[0] ?? fromBody[0];
    const authorization = token ? `Bearer ${token}` : fromHeader;
    const internal = internalRequest(req, { method: 'GET', path: pathOf('userinfo'), headers: authorization ? { authorization } : {} });
    markProfileRequest(internal, { tokenInQuery: fromQuery.length > 0 });
    await engine(internal, res);
  }
  router.get('/oauth2.0/profile', profile);
  router.post('/oauth2.0/profile', form, profile);

  // Any other method: 405 with Allow, as the standard endpoints answer (unknown-endpoint.ts),
  // not the portal's "Page not found". A browser at authorize gets the error page.
  for (const [path, methods] of Object.entries(CAS_METHODS)) {
    router.all(path, (req, res) => {
      res.setHeader('Allow', methods.join(', '));
      // A plain OPTIONS: what is allowed here (express answered it so before these routes).
      if (req.method === 'OPTIONS') return void res.status(204).end();
      const description = `${req.method} is not allowed at ${req.path.toLowerCase()}; use ${methods.join(' or ')}`;
      if (path === '/oauth2.0/authorize' && req.accepts(['json', 'html']) === 'html') {
        throw new HubError(405, msg('errors:casMethodNotAllowed', { methods: methods.join(', ') }));
      }
      oauthError(res, 405, 'invalid_request', description);
    });
  }

  return router;
}
