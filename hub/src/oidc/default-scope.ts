import type Provider from 'oidc-provider';
import { ProtocolHooks } from './protocol-hooks.js';

/** What an authorization request without a scope is given (RFC 6749 §3.3: a pre-defined default). */
export const DEFAULT_REQUEST_SCOPE = 'openid';

/**
 * RFC 6749 §3.3: a request that omits `scope` is processed with a pre-defined default or
 * refused with invalid_scope. oidc-provider did neither: the user signed in, and the client then
 * got a bare `access_denied` ("no scope was granted"). The hub's clients are OpenID Connect
 * relying parties, so the default is `openid`.
 */
export function installDefaultScope(provider: Provider): void {
  ProtocolHooks.of(provider).before((ctx) => {
    // Matched as oidc-provider's router matches it: in any letter case.
    // (Length first: every protocol GET passes here, userinfo's too, and most are not /auth.)
    if (ctx.method !== 'GET' || ctx.path.length !== 5 || ctx.path.toLowerCase() !== '/auth') return true;
    const { scope, request, request_uri: requestUri } = ctx.query;
    // A request object or a pushed request carries its own parameters.
    if (request !== undefined || requestUri !== undefined) return true;
    if (scope === undefined || (typeof scope === 'string' && scope.trim() === '')) ctx.query = { ...ctx.query, scope: DEFAULT_REQUEST_SCOPE };
    return true;
  });
}
