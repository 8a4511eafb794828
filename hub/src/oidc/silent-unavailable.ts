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
export function silentUnavailableTarget(ctx: KoaContextWithOIDC, description: string): string | undefined {
  const { oidc } = ctx;
  if (oidc?.route !== 'authorization') return undefined;
  const params = (oidc.params ?? (ctx.method === 'POST' ? oidc.body : ctx.query) ?? {}) as Record<string, unknown>;
  const prompt = typeof params.prompt === 'string' ? params.prompt.split(' ') : [];
  if (!prompt.includes('none')) return undefined;
  const client = oidc.client;
  const redirectUri = params.redirect_uri;
  if (!client || typeof redirectUri !== 'string' || !client.redirectUriAllowed(redirectUri)) return undefined;
  const mode = typeof params.response_mode === 'string' ? params.response_mode : params.response_type === 'code' ? 'query' : 'fragment';
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
