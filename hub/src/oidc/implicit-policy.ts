import type Provider from 'oidc-provider';
import { ProtocolHooks } from './protocol-hooks.js';

/**
 * Shown to a JavaScript app that still asks for a bare implicit token (seed 003 §2.3). Printable
 * ASCII without `"` or `\` only, as RFC 6749 §4.1.2.1 allows in an `error_description` (it said
 * "§", which a strict client or the OpenID Foundation's suite rejects as a malformed answer).
 */
export const BARE_TOKEN_DESCRIPTION =
  'response_type=token (the OAuth 2.0 implicit grant) is not supported (RFC 9700 section 2.1.2): ' +
  'use response_type=code with PKCE (code_challenge_method=S256); ' +
  'a client registered for it may still use the OpenID Connect form response_type=id_token token with a nonce';

/** oidc-provider's description when a client asks for a response type it was not registered for. */
const RESPONSE_TYPE_NOT_ALLOWED = 'requested response_type is not allowed for this client';

/** The error parameters of an authorization redirect, in its fragment or its query. */
function errorParams(url: URL): { params: URLSearchParams; inFragment: boolean } | undefined {
  const fragment = new URLSearchParams(url.hash.slice(1));
  if (fragment.has('error')) return { params: fragment, inFragment: true };
  if (url.searchParams.has('error')) return { params: url.searchParams, inFragment: false };
  return undefined;
}

/** The response_type the authorization request asked for, as oidc-provider read it (or the query's). */
function requestedResponseType(ctx: { oidc?: { params?: Record<string, unknown> }; query: Record<string, unknown> }): string {
  const value = ctx.oidc?.params?.response_type ?? ctx.query.response_type;
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * The implicit grant's policy at the authorization endpoint. RFC 9700 §2.1.2: clients
 * SHOULD NOT use it. The hub offers only its OpenID Connect form (`id_token token`, which
 * needs a nonce) and only to clients registered with the `implicit` grant; oidc-provider
 * enforces both. This middleware only makes its two refusals say what to do instead:
 *
 * - a bare `response_type=token` is `unsupported_response_type`, with a description that
 *   points to code + PKCE;
 * - a response type the client was not registered for is RFC 6749 §4.1.2.1
 *   `unauthorized_client` (oidc-provider answers `invalid_request`).
 *
 * Only redirects to an already validated redirect URI are touched; error pages are not.
 */
export function installImplicitPolicy(provider: Provider): void {
  ProtocolHooks.of(provider).after(['authorization', 'resume'], (ctx) => {
    const location = ctx.response.get('location');
    if (!location) return;
    let url: URL;
    try {
      url = new URL(location);
    } catch {
      return;
    }
    const found = errorParams(url);
    if (!found) return;
    const { params, inFragment } = found;
    const error = params.get('error');
    // Only a bare `token` gets the pointer to code + PKCE: any other unsupported type (`bogus`,
    // `code id_token`) keeps oidc-provider's own description, which names it.
    if (error === 'unsupported_response_type' && requestedResponseType(ctx) === 'token') {
      params.set('error_description', BARE_TOKEN_DESCRIPTION);
    } else if (error === 'invalid_request' && params.get('error_description') === RESPONSE_TYPE_NOT_ALLOWED) {
      params.set('error', 'unauthorized_client');
    } else {
      return;
    }
    if (inFragment) url.hash = params.toString();
    ctx.redirect(url.toString()); // keeps oidc-provider's 303
  });
}
