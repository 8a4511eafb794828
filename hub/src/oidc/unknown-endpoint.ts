import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * The methods each protocol endpoint answers (oidc-provider's routes as the hub enables them;
 * OPTIONS where it answers CORS preflights). Paths are matched in lower case, as its router does.
 */
const ENDPOINTS: readonly { path: RegExp; methods: readonly string[]; browser?: true }[] = [
  // A form POST to /auth and /session/end is sent on as a GET before it reaches oidc-provider
  // (post-as-get.ts); a POST of another content type reaches it and is refused here.
  { path: /^\/auth$/, methods: ['GET', 'POST'], browser: true },
  { path: /^\/auth\/[^/]+$/, methods: ['GET'] },
  { path: /^\/token$/, methods: ['POST', 'OPTIONS'] },
  // RFC 9126 pushed authorization requests (oidc-provider's default; published in discovery).
  { path: /^\/request$/, methods: ['POST', 'OPTIONS'] },
  { path: /^\/token\/(introspection|revocation)$/, methods: ['POST', 'OPTIONS'] },
  { path: /^\/me$/, methods: ['GET', 'POST', 'OPTIONS'] },
  { path: /^\/jwks$/, methods: ['GET', 'OPTIONS'] },
  { path: /^\/\.well-known\/(openid-configuration|oauth-authorization-server)$/, methods: ['GET', 'OPTIONS'] },
  { path: /^\/session\/end$/, methods: ['GET', 'POST'], browser: true },
  { path: /^\/session\/end\/confirm$/, methods: ['POST'] },
  { path: /^\/session\/end\/success$/, methods: ['GET'] },
];

/** Whether `path` is an endpoint a browser is sent to (a page, not JSON, when it comes with the wrong method). */
export function isBrowserEndpoint(path: string): boolean {
  const lower = path.toLowerCase();
  return ENDPOINTS.some((endpoint) => endpoint.browser === true && endpoint.path.test(lower));
}

/** The methods `path` answers, when it is a protocol endpoint. */
export function endpointMethods(path: string): readonly string[] | undefined {
  const lower = path.toLowerCase();
  return ENDPOINTS.find((endpoint) => endpoint.path.test(lower))?.methods;
}

/**
 * A protocol path no route of oidc-provider answered (an endpoint asked with the wrong method,
 * or no endpoint at all) gets an RFC 6749-style JSON error instead of koa's bare
 * `404 text/plain "Not Found"`: 405 with `Allow` for a known endpoint, else 404. Returns
 * whether it answered.
 */
export function answerUnmatched(ctx: KoaContextWithOIDC): boolean {
  if (ctx.status !== 404 || ctx.body != null) return false;
  const methods = endpointMethods(ctx.path);
  ctx.set('Cache-Control', 'no-store');
  if (ctx.method === 'OPTIONS' && methods?.includes('OPTIONS')) {
    // A plain OPTIONS (no CORS preflight, which oidc-provider answers itself): what is allowed here.
    ctx.status = 204;
    ctx.set('Allow', methods.join(', '));
    return true;
  }
  if (methods) {
    ctx.status = 405;
    ctx.set('Allow', methods.join(', '));
    ctx.body = { error: 'invalid_request', error_description: `${ctx.method} is not allowed at ${ctx.path.toLowerCase()}; use ${methods.filter((m) => m !== 'OPTIONS').join(' or ')}` };
  } else {
    ctx.status = 404;
    ctx.body = { error: 'invalid_request', error_description: 'there is no protocol endpoint at this path (see /.well-known/openid-configuration)' };
  }
  return true;
}
