import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * Where a silent authorization request (`prompt=none`) that the store's outage stopped is sent:
 * its client's redirect URI with `error=temporarily_unavailable` (RFC 6749 §4.1.2.1, OIDC Core
 * §3.1.2.6), undefined when it is not such a request or the answer cannot go there safely.
 *
 * oidc-provider redirects only the errors it raises itself; any other failure (the store down)
 * gets the hub's error page. For a check a subsite made behind the user's back that page
 * stranded the browser on the hub, the subsite never learning why, and the user was anonymous
 * there until they found the page's link (an outside fault review). The redirect URI must be
 * one the client registered (checked here, as oidc-provider checks it), and only the response
 * modes that carry an error in the URL are used; anything else keeps the page.
 */
export function silentUnavailableTarget(ctx: KoaContextWithOIDC, description: string, lastLoaded: (clientId: string) => { redirectUris?: string[] } | undefined): string | undefined {
  const { oidc } = ctx;
  if (oidc?.route !== 'authorization') return undefined;
  const params = (oidc.params ?? (ctx.method === 'POST' ? oidc.body : ctx.query) ?? {}) as Record<string, unknown>;
  const prompt = typeof params.prompt === 'string' ? params.prompt.split(' ') : [];
  if (!prompt.includes('none')) return undefined;
  const redirectUri = params.redirect_uri;
  if (typeof redirectUri !== 'string' || !registered(ctx, params.client_id, redirectUri, lastLoaded)) return undefined;
  // The default response modes: query for `code` and `none` (OAuth 2.0 Multiple Response Types), fragment for the rest.
  const mode = typeof params.response_mode === 'string' ? params.response_mode : params.response_type === 'code' || params.response_type === 'none' ? 'query' : 'fragment';
  if (mode !== 'query' && mode !== 'fragment') return undefined;
  const answer = new URLSearchParams({ error: 'temporarily_unavailable', error_description: description });
  if (typeof params.state === 'string') answer.set('state', params.state);
  answer.set('iss', oidc.provider.issuer);
  const target = new URL(redirectUri);
  if (mode === 'fragment') {
    target.hash = answer.toString();
    return target.toString();
  }
  for (const [name, value] of answer) target.searchParams.append(name, value);
  return target.toString();
}

/**
 * Whether the client registered `redirectUri`: by oidc-provider's check when it found the client,
 * else (the store down past the client cache's second: oidc-provider's own lookup failed) exactly
 * in the record this process last loaded. The answer carries no code, only the error.
 */
function registered(ctx: KoaContextWithOIDC, clientId: unknown, redirectUri: string, lastLoaded: (clientId: string) => { redirectUris?: string[] } | undefined): boolean {
  const client = ctx.oidc.client;
  if (client) return client.redirectUriAllowed(redirectUri);
  if (typeof clientId !== 'string') return false;
  return lastLoaded(clientId)?.redirectUris?.includes(redirectUri) === true;
}
